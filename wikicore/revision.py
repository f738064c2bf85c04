"""One revision of an article, as history, blame and the renderers report it.

It lives apart from the store so that code which only *shows* revisions (the
diff, blame and history renderers, JSON schemas) does not import git: the
record is plain data, the store fills it in.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

__all__ = ["Revision"]


@dataclass(frozen=True)
class Revision:
    """One commit that touched an article, as history and blame report it."""

    id: str
    """Full commit id."""
    short: str
    author: str
    email: str
    date: _dt.datetime
    """Author date, timezone-aware."""
    message: str
    path: str
    """Path of the article at this revision (it changes across renames and layout migrations)."""

    @property
    def slug(self) -> str:
        """The article's slug at this revision."""
        return self.path.rsplit("/", 1)[-1].removesuffix(".yaml")
