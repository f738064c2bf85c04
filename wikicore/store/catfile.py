"""Persistent ``git cat-file --batch`` readers: one pipe round trip per object, no process per read.

The store reads single objects (an article at a revision, a commit, a tree)
through two long-lived git processes, ``cat-file --batch`` for contents and
``cat-file --batch-check`` for headers, started the first time each is needed.
This speaks git's documented batch protocol itself rather than through
GitPython, whose import alone cost every command about 50 ms of its start
(a third of the 0.3 s a command may take to answer).

One reader is one conversation: it must never be shared between threads or
across ``fork()`` (:class:`~wikicore.store.objects.ObjectStore` gives each
thread of each process its own).
"""

from __future__ import annotations

import subprocess
from typing import IO

from ..errors import StoreError
from .gitenv import GitRunner

__all__ = ["CatFile"]


class CatFile:
    """Contents and headers of objects by name, from persistent ``cat-file`` processes of one repository."""

    def __init__(self, runner: GitRunner) -> None:
        self._runner = runner
        self._batch: subprocess.Popen[bytes] | None = None
        self._check: subprocess.Popen[bytes] | None = None

    def _start(self, mode: str) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                ["git", "cat-file", mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, cwd=self._runner.cwd, env=dict(self._runner.env),
            )
        except FileNotFoundError:
            raise StoreError("git is not installed (or not on PATH)") from None

    @staticmethod
    def _ask(process: subprocess.Popen[bytes], name: str) -> tuple[IO[bytes], list[bytes]] | None:
        """Send one name; the answer's header fields, or None when git has no such object."""
        # The protocol is one name a line: a name with a line break in it would ask for
        # two objects and leave the second answer in the pipe for the next question.
        if "\n" in name or "\r" in name or not name:
            return None
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(name.encode("utf-8") + b"\n")
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise StoreError("git cat-file ended unexpectedly (is the repository still there?)") from None
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise StoreError("git cat-file ended unexpectedly (is the repository still there?)")
        fields = header.split()
        if len(fields) != 3 or not fields[2].isdigit():  # "<name> missing", "<name> ambiguous", ...
            return None
        return stdout, fields

    def contents(self, name: str) -> tuple[str, str, bytes] | None:
        """``(id, kind, data)`` of the object ``name`` names, or None if there is none."""
        if self._batch is None:
            self._batch = self._start("--batch")
        answer = self._ask(self._batch, name)
        if answer is None:
            return None
        stdout, (sha, kind, size) = answer
        want = int(size) + 1  # the contents and a closing line break
        data = stdout.read(want)
        if len(data) != want:
            raise StoreError("git cat-file ended unexpectedly (is the repository still there?)")
        return sha.decode("ascii"), kind.decode("ascii"), data[:-1]

    def header(self, name: str) -> tuple[str, str] | None:
        """``(id, kind)`` of the object ``name`` names, or None if there is none."""
        if self._check is None:
            self._check = self._start("--batch-check")
        answer = self._ask(self._check, name)
        if answer is None:
            return None
        _, (sha, kind, _) = answer
        return sha.decode("ascii"), kind.decode("ascii")

    def close(self) -> None:
        """End both processes (closing their input is how the protocol says goodbye)."""
        for process in (self._batch, self._check):
            if process is None:
                continue
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:  # pragma: no cover - a pipe git already closed
                        pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a git stuck on a dead disk
                process.kill()
                process.wait()
        self._batch = self._check = None
