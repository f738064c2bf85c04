"""Shared helpers of the hostile-input suite (``tests/test_hostile_*.py``).

Budgets are asserted by what they prevent (the parser is never reached, an
element or a byte count stays under its cap) wherever that can be seen. Where
only the clock can tell (a formerly quadratic path that now runs), a generous
*ceiling* guards against a hang: tens of seconds for what takes well under a
second now and took tens of seconds before, so the assertion cannot fail on a
busy machine, only on a regression back to the old behaviour.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: A hang guard, not a timing: every case under it runs in well under a second on the CI machine.
CEILING_SECONDS = 60


class CeilingExceeded(AssertionError):
    """A hostile case ran past its generous ceiling: a budget regressed."""


@contextmanager
def ceiling(seconds: int = CEILING_SECONDS) -> Iterator[None]:
    """Fail the block if it runs past ``seconds`` (SIGALRM; on other threads, no guard)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise CeilingExceeded(f"ran past the {seconds} s ceiling")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
