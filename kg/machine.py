"""What the machine offers a step that can run in several processes."""
from __future__ import annotations

import os


def cores(at_most: int) -> int:
    """The cores this process may run on (its CPU affinity where the system tells it; the
    machine's elsewhere), at most `at_most`."""
    try:
        found = len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        found = os.cpu_count() or 1
    return max(1, min(found, at_most))
