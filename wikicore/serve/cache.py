"""What makes a read cheap: the branch's tip from one small file read, and answers kept as bytes.

A read of the latest article needs the tip (has anything been saved since?)
and the article's body. Asking git for the tip starts a process (milliseconds);
the ref file git keeps it in is 41 bytes, written to a lock file and renamed
into place, so reading it is exact however saves interleave: a save by the CLI
or another worker is seen by the next read after its ``update-ref`` returned.
Only when the ref is packed (after ``git pack-refs``/``gc``) does the tip come
from ``packed-refs``; git is asked once and the answer kept while that file's
identity (inode, size, modification time) stands still. Any save writes the
loose ref again, which is read exactly.

An article's JSON at a given commit never changes, so the encoded bodies are
kept by ``(slug, commit)`` and stay valid across saves; only which commit is
the latest moves with the tip. They are bounded by bytes (not entries), since
articles differ in size by orders of magnitude.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["UNKNOWN", "Body", "BodyCache", "TipWatch", "Unknown"]

#: A full object id (SHA-1 or SHA-256) and the newline git writes after it.
_LOOSE = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64})\n?")


class Unknown:
    """The tip could not be read without git: ask the store (off the event loop)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()

_Signature = tuple[int, int, int, int]


def _signature(path: bytes) -> _Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class TipWatch:
    """The commit a branch points at, read without starting git whenever the ref file allows."""

    def __init__(self, common_dir: Path, branch: str) -> None:
        self._loose = os.fsencode(common_dir / branch)
        self._packed = os.fsencode(common_dir / "packed-refs")
        # (packed-refs signature, tip) recorded by `learn` while the loose ref was absent.
        self._packed_tip: tuple[_Signature | None, str | None] | None = None

    def peek(self) -> str | Unknown | None:
        """The tip if one file read can tell it, else :data:`UNKNOWN` (then call :meth:`learn` with git's)."""
        try:
            fd = os.open(self._loose, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            known = self._packed_tip
            if known is not None and known[0] == _signature(self._packed):
                return known[1]
            return UNKNOWN
        except OSError:
            return UNKNOWN
        try:
            data = os.read(fd, 128)
        finally:
            os.close(fd)
        match = _LOOSE.fullmatch(data)
        return match.group(1).decode("ascii") if match is not None else UNKNOWN  # symbolic: let git resolve it

    def learn(self, ask: Callable[[], str | None]) -> str | None:
        """The tip from git (``ask``), remembered against ``packed-refs`` when the loose ref is absent.

        The signature is taken before git answers: a pack-refs in between changes it again, so
        the worst case is one more question to git, never a stale tip.
        """
        seen = self.peek()
        if not isinstance(seen, Unknown):
            return seen
        before = _signature(self._packed)
        tip = ask()
        if not os.path.exists(self._loose):
            self._packed_tip = (before, tip)
        return tip


@dataclass(frozen=True, slots=True)
class Body:
    """An article's answer: the commit its ETag names and its JSON, encoded once."""

    revision: str
    content: bytes


class BodyCache:
    """Encoded answers by key, least recently used first out, at most ``budget`` bytes of content.

    Safe to share between the event loop (reads) and worker threads (fills).
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[Hashable, Body] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Body | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, body: Body) -> None:
        """Keep ``body``; a body larger than the whole budget is not kept (it would evict everything)."""
        if len(body.content) > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.content)
            self._items[key] = body
            self.size += len(body.content)
            while self.size > self.budget:
                _, evicted = self._items.popitem(last=False)
                self.size -= len(evicted.content)
