"""fswait.DirWaiter: wakes when a watched folder changes, sleeps out its timeout otherwise."""

from __future__ import annotations

import os
import threading
import time

import pytest

from massgen_skill.follow.fswait import DirWaiter


@pytest.fixture
def waiter():
    made = DirWaiter.create()
    if made is None:
        pytest.skip("no inotify on this system")
    yield made
    made.close()


def test_times_out_when_nothing_changes(waiter, tmp_path):
    waiter.watch([tmp_path])
    started = time.monotonic()
    assert waiter.wait(0.3) is False
    assert time.monotonic() - started >= 0.25


def test_wakes_at_once_on_a_file_renamed_into_a_watched_folder(waiter, tmp_path):
    waiter.watch([tmp_path, None, tmp_path / "missing"])  # None and a missing folder are skipped
    temp = tmp_path / ".x.tmp"
    temp.write_text("{}")
    waiter.wait(0)  # drain the creation of the temp file

    timer = threading.Timer(0.2, lambda: os.replace(temp, tmp_path / "review_request.json"))
    started = time.monotonic()
    timer.start()
    try:
        assert waiter.wait(5.0) is True
    finally:
        timer.cancel()
    assert time.monotonic() - started < 2.0
    assert waiter.wait(0.05) is False  # the event was consumed
