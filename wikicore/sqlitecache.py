"""What a cache database's failures mean to the user, said once for every SQLite file wikicore keeps.

The archive cache and the source fingerprints share the link history's file;
whichever opens or writes it, a lock held by another process, a file that is no
database and a write that fails must read the same: one line naming the file
(exit 2), never sqlite3's traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InvalidInput

__all__ = ["check_columns", "opening", "writing"]


def check_columns(db: sqlite3.Connection, schema: dict[str, tuple[str, ...]]) -> None:
    """Refuse a table whose columns are not ``schema``'s (an extra column, an old layout) as damage.

    Another shape would fail only at the first write, in the middle of a save; refused
    here, at open, the caller rebuilds the file instead.
    """
    for table, columns in schema.items():
        found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
        if found != columns:
            raise sqlite3.DatabaseError(f"table {table} has columns {found}, not {columns}")


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def opening(conn: sqlite3.Connection, path: Path | str | None) -> Iterator[None]:
    """Set up a cache file on ``conn``; on failure close it and say what is wrong with ``path``."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        conn.close()
        if _locked(exc):
            raise InvalidInput(f"{path}: the cache is in use by another process (locked); try again") from exc
        raise InvalidInput(f"{path} is not a usable wikicore cache database: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InvalidInput(f"{path} is not a wikicore cache database: {exc}") from exc


@contextmanager
def writing(path: Path | str | None) -> Iterator[None]:
    """Write to a cache file; a lock held elsewhere or a failed write is one line naming ``path``."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _locked(exc):
            raise InvalidInput(f"{path}: the cache is in use by another process (locked); try again") from exc
        raise InvalidInput(f"{path}: the cache cannot be written: {exc}") from exc
