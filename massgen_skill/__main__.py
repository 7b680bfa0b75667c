import sys

from massgen_skill.cli import main

sys.exit(main())
