"""One ``git fast-import`` process: thousands of blobs and commits in seconds, written as one pack.

Used by bulk import (``Wiki.import_articles``), ``import-dump`` and ``migrate``,
always under the writer lock and always onto a temporary ref: the branch moves
only afterwards, by the store's compare-and-swap. A stream that fails or is
interrupted is killed and the temporary pack files it was writing are removed
(a ``kill -9`` of the whole process is cleaned up by the next writer, see
:mod:`wikicore.store.lock`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..errors import StoreError

__all__ = ["FastImport"]


def _temporary_packs(pack_dir: Path) -> set[str]:
    with contextlib.suppress(OSError):
        return {p.name for p in pack_dir.iterdir() if p.name.startswith(("tmp_pack_", "tmp_idx_", "tmp_rev_"))}
    return set()


class FastImport:
    """A ``git fast-import`` stream writing to ``ref``; marks name the blobs and commits it wrote."""

    def __init__(self, git_dir: Path, common_dir: Path, env: Mapping[str, str], ref: str,
                 parent: str | None) -> None:
        self.ref = ref
        self.parent = parent
        self.first = True
        self.mark = 0
        self.commits = 0
        self.pack_dir = common_dir / "objects" / "pack"
        self._before = _temporary_packs(self.pack_dir)
        self._read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                ["git", f"--git-dir={git_dir}", "fast-import", "--quiet", "--done", f"--cat-blob-fd={write_fd}"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(env),
                pass_fds=(write_fd,),
            )
        except FileNotFoundError:
            os.close(self._read_fd)
            raise StoreError("git is not installed (or not on PATH)") from None
        finally:
            os.close(write_fd)
        assert self.proc.stdin is not None
        self.stdin = self.proc.stdin
        self.reader = os.fdopen(self._read_fd, "rb")

    def _data(self, payload: bytes) -> None:
        self.stdin.write(b"data %d\n" % len(payload))
        self.stdin.write(payload)
        self.stdin.write(b"\n")

    def blob(self, payload: bytes) -> int:
        """Write a blob; return its mark."""
        self.mark += 1
        self.stdin.write(b"blob\nmark :%d\n" % self.mark)
        self._data(payload)
        return self.mark

    def commit(self, author: str, message: str, changes: list[tuple[str, int | str | None]],
               committer: str | None = None) -> int:
        """Commit ``changes`` (path, blob mark or blob id; ``None`` deletes) on the previous commit; return its mark.

        ``author`` (and ``committer``, default the author) are fast-import
        identity lines: ``Name <mail> <epoch> <zone>``.
        """
        self.mark += 1
        self.stdin.write(f"commit {self.ref}\nmark :{self.mark}\n".encode())
        self.stdin.write(f"author {author}\ncommitter {committer or author}\n".encode())
        self._data(message.encode("utf-8"))
        if self.first and self.parent:
            self.stdin.write(f"from {self.parent}\n".encode())
        self.first = False
        for path, blob in changes:
            if blob is None:
                self.stdin.write(f"D {path}\n".encode())
            elif isinstance(blob, int):
                self.stdin.write(f"M 100644 :{blob} {path}\n".encode())
            else:
                self.stdin.write(f"M 100644 {blob} {path}\n".encode())
        self.stdin.write(b"\n")
        self.commits += 1
        return self.mark

    def cat_blob(self, mark: int) -> bytes:
        """Read back a blob written earlier in this stream."""
        self.stdin.write(b"cat-blob :%d\n" % mark)
        self.stdin.flush()
        header = self.reader.readline().split()
        if len(header) != 3:
            raise StoreError(f"git fast-import could not read back blob :{mark}")
        data = self.reader.read(int(header[2]))
        self.reader.read(1)  # the LF after the contents
        return data

    def finish(self) -> None:
        """End the stream; raise :class:`StoreError` (with git's reason) if fast-import failed."""
        try:
            self.stdin.write(b"done\n")
            self.stdin.close()
        except BrokenPipeError:
            pass
        stderr = self.proc.stderr.read() if self.proc.stderr else b""
        code = self.proc.wait()
        self.reader.close()
        if code != 0:
            self._clean()
            raise StoreError(f"git fast-import failed: {stderr.decode('utf-8', 'replace').strip()}")

    def abort(self) -> None:
        """Kill the stream and remove the temporary pack it was writing."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            self.stdin.close()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.reader.close()
        self._clean()

    def _clean(self) -> None:
        for name in _temporary_packs(self.pack_dir) - self._before:
            (self.pack_dir / name).unlink(missing_ok=True)
