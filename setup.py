"""Build hook: the wheel carries the skill bundle (SKILL.md, scripts/, references/, agents/) in
massgen_skill/_bundle/, so `massgen-skill install` works after a plain `pip install .` too. Everything else is
in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The build must not rely on importing the package it builds: tests/test_prepare.py checks this equals
# massgen_skill.setup.installer.BUNDLE_ITEMS.
BUNDLE_ITEMS = ("SKILL.md", "scripts", "references", "agents")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


class BuildPyWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds the bundle in the checkout itself
        target = Path(self.build_lib) / "massgen_skill" / "_bundle"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for item in BUNDLE_ITEMS:
            source = ROOT / item
            if source.is_dir():
                shutil.copytree(source, target / item, ignore=IGNORE)
            elif source.is_file():
                shutil.copy2(source, target / item)
            else:
                raise FileNotFoundError(f"skill bundle item missing: {source}")


setup(cmdclass={"build_py": BuildPyWithBundle})
