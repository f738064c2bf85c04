"""The writer lock: one writer at a time per wiki, across processes, released by the kernel if a writer dies.

Readers never take it. Writers (save, rename, bulk import, migrate,
housekeeping) hold it for the whole read-check-write-publish sequence, leave a
crash marker (``.wikicore/saving``, holding their pid) while they work, and
clean up after a writer that was killed: git lock files it left behind and
the temporary packs of a killed ``git fast-import``.

``import-dump`` parses for minutes or hours: it writes its objects without the
lock (:meth:`WriterLock.working`, which leaves ``.wikicore/working-<pid>``)
and holds the lock only to publish, so a save waits seconds, not the whole
import. A writer that waits longer than :data:`LOCK_TIMEOUT` raises
:class:`~wikicore.errors.WikiBusy`: contention is not bad input.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import StaleLock, StoreError, WikiBusy
from .gitenv import alive

__all__ = ["LOCK_TIMEOUT", "LOCK_WAIT_SECONDS", "STALE_AFTER_SECONDS", "WriterLock"]

#: How long a writer waits for the lock before giving up (seconds).
LOCK_TIMEOUT = 60.0
#: A git lock younger than this may belong to a live git process (they hold locks for milliseconds).
STALE_AFTER_SECONDS = 10.0
#: How long a writer waits for a young git lock to be released before reporting it.
LOCK_WAIT_SECONDS = 2.0


class WriterLock:
    """The OS file lock in ``.wikicore/write.lock`` plus the crash marker and its recovery."""

    def __init__(self, state_dir: Path, common_dir: Path, git_locks: list[Path]) -> None:
        self.state_dir = state_dir
        self.common_dir = common_dir
        self.git_locks = git_locks

    @property
    def marker(self) -> Path:
        return self.state_dir / "saving"

    def _crashed_at(self) -> float | None:
        """When the writer that left the crash marker started, if that process is gone."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            if self.marker.exists():
                pid = int(self.marker.read_text("ascii").split()[0])
                if not alive(pid):
                    return self.marker.stat().st_mtime
        return None

    def raise_if_locked(self, recover: bool = False) -> None:
        """Wait out a git lock a live git holds; report one left behind; remove it only when provably stale.

        A lock younger than :data:`STALE_AFTER_SECONDS` may belong to a running
        ``git`` (``gc`` packing refs, a user's ``update-ref``): we wait up to
        :data:`LOCK_WAIT_SECONDS` for it to go. One that stays is reported with its
        path and age (:class:`StaleLock`). It is removed only when provably stale:
        the crash marker of a wikicore writer whose process is gone is older than
        the lock, and the lock is older than any live git would hold it.
        """
        crashed_at = self._crashed_at() if recover else None
        dead, live = self._workers() if recover else ([], False)
        starts = [mtime for _, mtime in dead] + ([crashed_at] if crashed_at is not None else [])
        since = min(starts, default=None)
        # A live unlocked writer's temporary pack looks like a dead one's: clean only when none runs.
        if since is not None and not live:
            self._remove_temporary_packs(since)
            for path, _ in dead:
                path.unlink(missing_ok=True)
        for lock in self.git_locks:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    mtime = lock.stat().st_mtime
                except FileNotFoundError:
                    break
                age = time.time() - mtime
                if crashed_at is not None and mtime >= crashed_at - 1 and age > STALE_AFTER_SECONDS:
                    lock.unlink(missing_ok=True)
                    break
                if age > STALE_AFTER_SECONDS or time.monotonic() > deadline:
                    raise StaleLock(str(lock), age)
                time.sleep(0.02)

    def _workers(self) -> tuple[list[tuple[Path, float]], bool]:
        """The markers of unlocked writers whose process is gone (with their start), and whether one is alive."""
        dead: list[tuple[Path, float]] = []
        live = False
        with contextlib.suppress(OSError):
            for path in self.state_dir.glob("working-*"):
                with contextlib.suppress(OSError, ValueError):
                    if alive(int(path.name.removeprefix("working-"))):  # this process's own counts as live
                        live = True
                    else:
                        dead.append((path, path.stat().st_mtime))
        return dead, live

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Mark a write in flight without the lock (objects written, nothing published) for crash recovery."""
        marker = self.state_dir / f"working-{os.getpid()}"
        try:
            marker.write_text(f"{os.getpid()}\n", "ascii")
        except OSError as error:
            raise StoreError(f"could not write {marker}: {error.strerror or error}") from None
        try:
            yield
        finally:
            marker.unlink(missing_ok=True)

    def _remove_temporary_packs(self, since: float) -> None:
        """Delete ``tmp_pack_*``/``tmp_idx_*`` files a killed ``fast-import`` of ours left.

        Only files written after the dead writer started are touched: the writer
        lock is held, so no writer of ours is running, and a foreign git's
        temporary files would predate the marker or be newer than its death.
        """
        pack_dir = self.common_dir / "objects" / "pack"
        with contextlib.suppress(OSError):
            for path in pack_dir.iterdir():
                if path.name.startswith(("tmp_pack_", "tmp_idx_", "tmp_rev_")):
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime >= since - 1:
                            path.unlink()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the wiki's OS writer lock; leave a crash marker while a write is in flight."""
        # Imported here: readers never lock, and filelock's import was 18 ms of every read command's start.
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.state_dir / "write.lock"), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise WikiBusy(
                f"the wiki is busy: another writer has held {self.state_dir / 'write.lock'} for over "
                f"{LOCK_TIMEOUT:.0f} s; nothing was changed, try again"
            ) from None
        try:
            self.raise_if_locked(recover=True)
            try:
                self.marker.write_text(f"{os.getpid()}\n", "ascii")
            except OSError as error:
                raise StoreError(f"could not write {self.marker}: {error.strerror or error}") from None
            yield
            self.marker.unlink(missing_ok=True)
        finally:
            lock.release()
