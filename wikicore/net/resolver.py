"""Name lookups for both HTTP stacks: getaddrinfo on a few daemon threads, always bounded in time.

getaddrinfo has no timeout of its own: a dead resolver holds the calling thread
for its retries times 5 s. So every lookup runs on :data:`RESOLVER`'s threads and
the caller stops waiting in time (the connect timeout, or the URL's deadline).
Daemon threads, unlike ``ThreadPoolExecutor``'s (which asyncio's default
executor is), do not hold up interpreter exit while a lookup hangs. The
addresses found then go through the one address policy,
:func:`wikicore.net.policy.vetted`, whichever stack asked.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import queue
import socket
import threading
from typing import Any

from .failures import LookupTimeout

__all__ = ["RESOLVER", "RESOLVER_THREADS", "Resolver", "is_ip_literal"]

#: Name lookups in flight at once; a lookup that outlives its caller's timeout keeps its thread.
RESOLVER_THREADS = 16

#: One getaddrinfo result: (family, type, proto, canonname, sockaddr).
AddrInfo = tuple[Any, ...]


def is_ip_literal(name: str) -> bool:
    """Whether ``name`` is an IP address (with or without a ``%zone``): nothing to look up."""
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


class Resolver:
    """A few daemon threads running getaddrinfo; :meth:`lookup` waits in threads, :meth:`alookup` on a loop."""

    def __init__(self, threads: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[list[AddrInfo]], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._threads = threads
        self._started = 0
        self._lock = threading.Lock()

    def submit(self, *args: Any) -> concurrent.futures.Future[list[AddrInfo]]:
        """Start ``socket.getaddrinfo(*args)`` on a resolver thread."""
        future: concurrent.futures.Future[list[AddrInfo]] = concurrent.futures.Future()
        with self._lock:
            if self._started < self._threads:
                self._started += 1
                threading.Thread(target=self._work, name="wikicore-dns", daemon=True).start()
        self._jobs.put((future, args))
        return future

    def lookup(self, name: str, port: int, timeout: float) -> list[AddrInfo]:
        """getaddrinfo for a TCP connection to ``name``, waited for at most ``timeout`` seconds.

        Raises :class:`~wikicore.net.failures.LookupTimeout` when the time runs out,
        and ``socket.gaierror`` as getaddrinfo does. IP literals are not queued.
        """
        if is_ip_literal(name):
            return socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
        try:
            return self.submit(name, port, 0, socket.SOCK_STREAM).result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise LookupTimeout(f"DNS lookup of {name} timed out") from None

    async def alookup(
        self, name: str, port: int, family: socket.AddressFamily, timeout: float
    ) -> list[AddrInfo]:
        """:meth:`lookup` for a coroutine: the event loop goes on while the thread waits."""
        future = asyncio.wrap_future(self.submit(name, port, family, socket.SOCK_STREAM))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise LookupTimeout(f"DNS lookup of {name} timed out") from None

    def _work(self) -> None:
        while True:
            future, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(socket.getaddrinfo(*args))
            except BaseException as exc:  # handed to the caller, who re-raises it
                future.set_exception(exc)


#: The process's resolver threads, shared by every session.
RESOLVER = Resolver(RESOLVER_THREADS)
