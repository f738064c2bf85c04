"""The files of one multi-file import: found inside what the user named, read within one budget.

A directory import reads only what lies inside the directory: a symlink whose
target is outside it (``notes.txt -> ~/.ssh/id_rsa``) would otherwise import the
secret as an article, and a symlinked folder could loop or lead anywhere.
Symlinked folders are not walked (their files, when inside, are reached by
their real path) and anything that is not a regular file (a FIFO, a device) is
not read; every file left out is listed, so the caller can say so.

What the walk checked is what is read: a symlink inside the folder is listed
as the real file it names, and every file is read without following a
symlink (``O_NOFOLLOW``) and only if the open descriptor is a regular file, so
a file swapped for a link to a secret, or for a FIFO, between the walk and the
read is refused, not read.

All the articles of a batch are held in memory until the one commit that
publishes them, so the batch has a total budget besides each file's own:
:data:`MAX_BATCH_CHARS` characters, counted as they are read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImportFailed, InvalidArticle, InvalidInput, Problem
from ..gcpause import paused_gc
from ..models import Article
from ..serialize import read_text

__all__ = ["MAX_BATCH_CHARS", "Sources", "find_sources", "import_paths"]

#: Characters one multi-file import may read in all. Parsed articles cost about
#: 18 times their text (35 MB of text files held 645 MB resident), so 16 Mi
#: characters keep a batch near 300 MB; more goes in several imports, or
#: through ``import-dump``, which streams.
MAX_BATCH_CHARS = 16 * 1024 * 1024


@dataclass(frozen=True)
class Sources:
    """The files to import, in order, and one line for each file left out and why."""

    paths: tuple[Path, ...]
    skipped: tuple[str, ...] = ()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _walk(folder: Path, known: Iterable[str] | None) -> tuple[list[Path], list[str]]:
    """Regular files with a known suffix under ``folder``, without leaving it; and what was left out."""
    suffixes = None if known is None else {s.lower() for s in known}
    root = folder.resolve()
    found: list[Path] = []
    skipped: list[str] = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        here = Path(top)
        for name in sorted(dirs):
            if name.startswith("."):
                dirs.remove(name)
            elif (here / name).is_symlink():
                skipped.append(f"{here / name}: a symlinked folder, not walked")
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or (suffixes is not None and path.suffix.lower() not in suffixes):
                continue
            real = path
            try:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    target = path.resolve(strict=True)
                    if not _inside(target, root):
                        skipped.append(f"{path}: a symlink to {target}, outside {folder}")
                        continue
                    info = target.stat()
                    real = target  # read as the real file it names: the read follows no link
            except (OSError, RuntimeError) as error:  # a dangling link or a loop
                skipped.append(f"{path}: unreadable link ({getattr(error, 'strerror', None) or error})")
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.append(f"{path}: not a regular file")
                continue
            found.append(real)
    return found, skipped


def find_sources(items: Sequence[Path], suffixes: Iterable[str] | None = None) -> Sources:
    """The files to import: files as given, directories walked for files with one of ``suffixes``.

    Hidden files and folders are left out silently; symlinks leading outside
    a named directory, symlinked folders and special files are left out and
    listed in :attr:`Sources.skipped`. A directory with nothing to import is
    :class:`~wikicore.errors.InvalidInput`.
    """
    known = list(suffixes) if suffixes is not None else None
    paths: list[Path] = []
    skipped: list[str] = []
    for item in items:
        if item.is_dir():
            found, left_out = _walk(item, known)
            skipped.extend(left_out)
            if not found:
                raise InvalidInput(f"{item}: no article files to import (.yaml, .json, .txt, .wiki, ...)")
            paths.extend(found)
        else:
            # A file named outright may be a link: the user asked for what it names, read as that file.
            paths.append(item.resolve() if item.is_symlink() else item)
    return Sources(tuple(paths), tuple(skipped))


def import_paths(paths: Sequence[Path], format: str | None = None, *,
                 max_chars: int | None = None) -> list[Article]:
    """Every file imported (its format from its suffix unless ``format``), within ``max_chars`` in all.

    The budget is checked against each file's size before it is read and
    against what was read, so a file that grows meanwhile is caught too.
    ``max_chars`` defaults to :data:`MAX_BATCH_CHARS`.
    """
    max_chars = MAX_BATCH_CHARS if max_chars is None else max_chars
    # Every article read is kept until the commit, so each of the collector's full passes walked
    # all of them again: reading and storing 1,000 small files took 0.19-0.25 s of CPU with it
    # running, 0.17-0.18 s paused.
    with paused_gc():
        return _import_all(paths, format, max_chars)


def _import_all(paths: Sequence[Path], format: str | None, max_chars: int) -> list[Article]:
    from . import detect_format, import_text

    articles: list[Article] = []
    total = 0
    for path in paths:
        try:
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            size = 0  # read_text says what is wrong with it
        if total + size > max_chars:
            raise ImportFailed(_over_budget(len(paths), max_chars))
        try:
            text = read_text(path, follow_symlinks=False)  # the file checked, not a link swapped in since
        except OSError as exc:
            raise InvalidArticle([Problem(exc.strerror or str(exc))], str(path)) from None
        total += len(text)
        if total > max_chars:
            raise ImportFailed(_over_budget(len(paths), max_chars))
        articles.append(import_text(text, format or detect_format(path), file_name=str(path)))
    return articles


def _over_budget(count: int, max_chars: int) -> str:
    return (f"the {count} files to import hold over {max_chars:,} characters, more than one import holds in "
            "memory: import them in smaller batches (or a dump with `wikicore import-dump`)")
