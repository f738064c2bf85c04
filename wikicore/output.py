"""The one writer for every file wikicore writes, so no output is ever half-written or misplaced.

``-o PATH``, ``schema --out``, reports, the demo and ``convert`` all end here,
because what sits at PATH decides how it may be written:

- **a regular file, or nothing yet**: written atomically. The bytes go to a
  temporary file in the same directory, are fsynced, and the temporary file is
  renamed over PATH, so a reader (or a crash, or a full disk) sees the old file
  or the new one, never half of one. A new file gets the permissions the umask
  allows (the temporary file is created with ``0o666`` and the kernel applies
  the umask, default ACLs included); a replaced file keeps its mode (and its
  owner, where we may set it).
- **anything else** (a character device such as ``/dev/null``, a FIFO, a
  terminal): written through, never replaced. ``rename`` over ``/dev/null``
  run as root would have destroyed the system's ``/dev/null``.
- **a symlink**: followed to its target, which is then written by the rules
  above; the link itself stays.
- ``-``, ``/dev/stdout``, ``/dev/fd/1`` and ``/proc/self/fd/1`` mean the
  process's standard output. The library never prints, so :func:`is_stdout`
  tells the caller (the CLI) to write there itself.

Every failure is an :class:`~wikicore.errors.InvalidInput` naming the path:
the CLI turns it into one line and exit status 2.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import InvalidInput

__all__ = ["STDOUT_NAMES", "check_writable", "is_stdout", "write_file", "write_path"]

#: Output names that mean "standard output": written by the caller, never opened as files (a shell's
#: `>>` redirection would be truncated by opening /dev/stdout, and renaming over it loses the output).
STDOUT_NAMES = frozenset({"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})

#: How many random temporary names we try before giving up (a collision needs 2**48 bad luck).
_TEMP_ATTEMPTS = 16


def is_stdout(target: str | os.PathLike[str] | None) -> bool:
    """Whether ``target`` names standard output (``None`` included)."""
    return target is None or os.fspath(target) in STDOUT_NAMES


#: Paths that name an open descriptor of this process (``/dev/stderr``, ``/dev/fd/N``): the kernel's
#: magic links reach a pipe or a terminal that realpath cannot name, so they are opened as they are.
_DESCRIPTOR_PREFIXES = ("/dev/fd/", "/proc/self/fd/", "/dev/stderr", "/dev/stdin")


def _resolve(path: Path) -> Path:
    """The path a write lands on: symlinks followed (a dangling one to where it points)."""
    if str(path).startswith(_DESCRIPTOR_PREFIXES):
        return path
    return Path(os.path.realpath(path))


def _fail(path: str | os.PathLike[str], reason: str) -> InvalidInput:
    return InvalidInput(f"{os.fspath(path)}: cannot write: {reason}")


def check_writable(target: str | os.PathLike[str]) -> None:
    """Refuse, before any work is done, an output path that cannot be written.

    Used by commands that take minutes before they write (``audit -o``): the
    directory must exist and the path must not be a directory. Everything else
    (permissions, a full disk) is found by :func:`write_file` itself.
    """
    if is_stdout(target):
        return
    path = Path(target)
    real = _resolve(path)
    if real.is_dir():
        raise _fail(path, "is a directory")
    if not real.parent.is_dir():
        raise _fail(path, f"directory {real.parent} does not exist")


def write_file(target: str | os.PathLike[str], data: str | bytes | Iterable[str]) -> None:
    """Write ``data`` (text is UTF-8) to ``target`` by the rules in the module docstring.

    Raises :class:`~wikicore.errors.InvalidInput` naming the path when it cannot
    be written. Standard output is the caller's to write (see :func:`is_stdout`);
    asking this function to write it is a programming error.
    """
    try:
        write_path(target, data)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise _fail(target, reason) from None


def write_path(target: str | os.PathLike[str], data: str | bytes | Iterable[str]) -> None:
    """:func:`write_file` for callers that handle :class:`OSError` themselves (a cache may fail quietly)."""
    if is_stdout(target):
        raise ValueError("write_file() does not write standard output; check is_stdout() first")
    # Text given in pieces (a large report: 35.6 MB of JSON for 50,000 references) is written piece by
    # piece, never joined, so the report never exists whole in memory.
    raw: bytes | Iterable[bytes] = (
        data.encode("utf-8") if isinstance(data, str)
        else data if isinstance(data, bytes)
        else (piece.encode("utf-8") for piece in data)
    )
    real = _resolve(Path(target))
    try:
        info: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(target))
    if info is not None and (not stat.S_ISREG(info.st_mode) or str(real).startswith(_DESCRIPTOR_PREFIXES)):
        # A descriptor the shell handed us (`2>>log`) is appended to, never truncated or replaced.
        _write_through(real, raw, append=stat.S_ISREG(info.st_mode))
        return
    if not real.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"directory {real.parent} does not exist", str(target))
    _write_atomic(real, raw, info)


def _write_all(fd: int, raw: bytes | Iterable[bytes]) -> None:
    for piece in (raw,) if isinstance(raw, bytes) else raw:
        view = memoryview(piece)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _write_through(real: Path, raw: bytes | Iterable[bytes], append: bool = False) -> None:
    """Write to a device, FIFO or terminal as it is: no truncation, no rename, no chmod."""
    flags = os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0) | (os.O_APPEND if append else 0)
    fd = os.open(real, flags)
    try:
        _write_all(fd, raw)
    finally:
        os.close(fd)


def _create_temp(real: Path) -> tuple[int, Path]:
    """A new file beside ``real``, created 0o666 so that the kernel applies the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(_TEMP_ATTEMPTS):
        temp = real.parent / f".{real.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(real.parent))


def _write_atomic(real: Path, raw: bytes | Iterable[bytes], existing: os.stat_result | None) -> None:
    """Temporary file, fsync, rename: the reader sees the old file or the new one."""
    fd, temp = _create_temp(real)
    try:
        try:
            if existing is not None:
                # Replacing a file must not change who may read it (a 0644 file once became 0600).
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
                if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(fd, existing.st_uid, existing.st_gid)
                    except PermissionError:
                        pass  # only root may give a file away; the mode is still kept
            _write_all(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, real)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(real.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; some filesystems cannot fsync a directory, which is not an error."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
