"""The test harness itself: what it must catch so that the tests built on it can fail."""

from __future__ import annotations

import pytest

from harness import Child, child_env


def test_wait_fails_when_a_process_the_child_started_outlives_it() -> None:
    """A leftover holding the child's output is a leak, and the output read so far may be cut."""
    leak = "import subprocess; subprocess.Popen(['sleep', '60']); print('started it')"
    child = Child(["shell", "-c", leak], child_env())
    try:
        held = r"exited \(0\), but a process it started still holds its output"
        with pytest.raises(AssertionError, match=held):
            child.wait()
    finally:
        child.kill_group()
