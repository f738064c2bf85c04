"""Deadlines and the watchdog: a total time budget per URL, enforced on the sockets.

One rule for both HTTP stacks (:class:`Budget`): a URL's deadline starts when its
first request is sent, at its first turn of the rate gate
(:meth:`wikicore.net.RateGate.slot` and ``aslot`` call :meth:`Budget.begin`),
never while it queues behind its host's or its archive's limit. Started on
creation instead, a URL queued behind the Internet Archive's playback spacing ran
out of time without being asked, and was reported as a site that timed out.

requests' ``timeout`` bounds each socket read, not the whole exchange, so a
server trickling one byte at a time keeps a ``timeout=(1, 1)`` request busy
indefinitely. A single watchdog thread shuts down the socket of any request
that outlives its :class:`Deadline`; the blocked read then returns and the fetch
reports ``deadline``. The connections of :mod:`wikicore.net.session` register
their sockets with the deadline active on their thread (:func:`current`,
:func:`activate`).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Budget", "Deadline", "activate", "current", "start"]


class Budget:
    """A per-URL time budget that starts at its first request, not when it is made.

    Until :meth:`begin` it has all its ``seconds`` left and cannot be exceeded,
    so time spent waiting for the URL's turn at the gate is not charged to the
    site. :meth:`begin` is idempotent: the hops and retries of a URL share the
    budget their first request started. Subclasses enforce it (:class:`Deadline`
    on the sockets through the watchdog, the aiohttp stack with an
    ``asyncio.timeout``) in :meth:`_started`.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = float("inf")
        self.started = False

    def begin(self) -> None:
        """Start the clock, unless a request of this URL already did."""
        if self.started:
            return
        self.started = True
        self.expires = time.monotonic() + self.seconds
        self._started()

    def _started(self) -> None:
        """What a subclass does once the clock runs (arm its enforcement)."""

    def remaining(self) -> float:
        """Seconds left, never negative (all of them before the first request)."""
        if not self.started:
            return self.seconds
        return max(0.0, self.expires - time.monotonic())

    def exceeded(self) -> bool:
        """Whether time has run out (never before the first request)."""
        return time.monotonic() >= self.expires


class Deadline(Budget):
    """A per-URL :class:`Budget`, enforced by shutting down the sockets it owns.

    Made by :meth:`~wikicore.net.CheckSession.budget` (it starts at the URL's
    first turn at the gate) or :func:`start` (it starts at once); the
    connections made while it is active on the current thread register their
    sockets with it. When time runs out the watchdog shuts them down, which
    wakes any read blocked on them.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        #: The watchdog's handle for this deadline, set when it starts.
        self.ident: int | None = None

    def _started(self) -> None:
        with self._lock:
            if self._done:
                return  # finished before its first request: nothing to watch
            self.ident = _WATCHDOG.add(self)

    def exceeded(self) -> bool:
        """Whether time has run out (or the watchdog already fired)."""
        return self.expired or super().exceeded()

    def watch(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it already has)."""
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def release(self) -> bool:
        """Stop watching the sockets of finished exchanges; ``False`` if the deadline already fired.

        Called when an answer was read whole and its connection goes back to the
        pool, so that a later expiry cannot cut another URL's request on it.
        """
        with self._lock:
            if self.expired:
                return False
            self._sockets = []
            return True

    def expire(self) -> None:
        """Time is up: mark the deadline expired and shut down the sockets it watches (the watchdog calls this)."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        """Stop watching; the sockets go back to their pools untouched."""
        with self._lock:
            self._done = True
            self._sockets = []
            ident = self.ident
        if ident is not None:
            _WATCHDOG.discard(ident)


def _shutdown(sock: socket.socket) -> None:
    # shutdown(), not close(): closing a descriptor another thread is blocked on
    # is undefined; shutdown wakes the reader with EOF on Linux and macOS.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread firing deadlines in time order (no thread per request).

    The heap holds ``(expires, id)`` pairs only and the live deadlines sit in a
    dict that :meth:`discard` empties as checks finish, so memory follows the
    checks in flight, not the checks made in the last ``deadline`` seconds.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, Deadline] = {}
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> int:
        with self._cond:
            ident = next(self._counter)
            earliest = not self._heap or deadline.expires < self._heap[0][0]
            heapq.heappush(self._heap, (deadline.expires, ident))
            self._live[ident] = deadline
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wikicore-deadlines", daemon=True)
                self._thread.start()
            if earliest:  # only a new earliest deadline changes when the thread must wake
                self._cond.notify()
            return ident

    def discard(self, ident: int) -> None:
        with self._cond:
            self._live.pop(ident, None)
            if len(self._heap) > 2 * len(self._live) + 1024:  # drop finished entries, amortised O(1)
                self._heap = [entry for entry in self._heap if entry[1] in self._live]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                expires, ident = self._heap[0]
                now = time.monotonic()
                if expires > now:
                    self._cond.wait(expires - now)
                    continue
                heapq.heappop(self._heap)
                deadline = self._live.pop(ident, None)
            if deadline is not None:
                deadline.expire()


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


def start(seconds: float) -> Deadline:
    """A new deadline of ``seconds``, running and watched from now on; :meth:`Deadline.finish` it when done."""
    deadline = Deadline(seconds)
    deadline.begin()
    return deadline


def current() -> Deadline | None:
    """The deadline active on this thread, if any."""
    return getattr(_CURRENT, "deadline", None)


@contextmanager
def activate(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the one this thread's new connections report their sockets to."""
    previous = current()
    _CURRENT.deadline = deadline
    try:
        yield deadline
    finally:
        _CURRENT.deadline = previous
