"""The one exception tree of wikicore.

Every error the library raises on purpose derives from :class:`WikicoreError`, so
callers (and the CLI) can catch one class and turn it into one clear line::

    WikicoreError
    ├── InvalidInput            bad input from a user: exit status 2
    │   ├── InvalidArticle      an article file or object failed validation
    │   ├── InvalidSlug         a slug that may not reach the filesystem
    │   ├── InvalidRevision     a revision string that may not reach git
    │   └── ImportFailed        an importer could not read its input
    │       └── BudgetExceeded  input over a parser's time, size or work budget (names the page)
    ├── NotFound                a slug or revision that does not exist (exit 2)
    ├── EditConflict            a save whose base is no longer the tip (exit 3)
    ├── StoreError              the git store is in a state we refuse to touch
    │   ├── StaleLock           a lock file left behind by a crashed writer
    │   └── WikiBusy            another writer held the wiki for longer than we wait (exit 6)
    └── NetworkError            the checker or archive client failed as a whole
        └── RateLimited         the archive asked us to wait (carries retry_after)

The CLI maps each class to an exit status in one place (``cli.EXIT_CODES``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BudgetExceeded",
    "EditConflict",
    "ImportFailed",
    "InvalidArticle",
    "InvalidInput",
    "InvalidRevision",
    "InvalidSlug",
    "NetworkError",
    "NotFound",
    "Problem",
    "RateLimited",
    "StaleLock",
    "StoreError",
    "WikiBusy",
    "WikicoreError",
    "WriteConflict",
]

#: At most this many problems are spelled out in one error message; the rest are counted.
MAX_PROBLEMS_SHOWN = 20


class WikicoreError(Exception):
    """Base of every error wikicore raises on purpose."""


class InvalidInput(WikicoreError):
    """Input from a user that we refuse: a file, a field, a slug, a revision, a URL."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can.

    ``path`` is the field path (``references[3].isbn``); ``line`` the 1-based line
    in the source file when the input came from a file we parsed ourselves.
    """

    message: str
    path: str = ""
    line: int | None = None

    def render(self, source: str | None = None) -> str:
        """Return ``file:line: field: message``, leaving out what is unknown."""
        where = ""
        if source:
            where = source + (f":{self.line}" if self.line else "")
        elif self.line:
            where = f"line {self.line}"
        parts = [p for p in (where, self.path) if p]
        return ": ".join([*parts, self.message])


class InvalidArticle(InvalidInput):
    """An article (file or object) that does not validate.

    ``problems`` holds every problem found; ``str()`` shows at most
    :data:`MAX_PROBLEMS_SHOWN` of them, one per line, then ``and N more``.
    """

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._render())

    def lines(self) -> list[str]:
        """One line per shown problem, plus an ``and N more`` line when cut."""
        shown = [p.render(self.source) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        rest = len(self.problems) - MAX_PROBLEMS_SHOWN
        if rest > 0:
            shown.append(f"and {rest} more")
        return shown

    def _render(self) -> str:
        return "\n".join(self.lines()) or (self.source or "invalid article")


class InvalidSlug(InvalidInput):
    """A slug that is not safe to use as a file name in the wiki."""


class InvalidRevision(InvalidInput):
    """A revision string that is refused before git ever sees it."""


class ImportFailed(InvalidInput):
    """An importer could not make an article of its input."""


class BudgetExceeded(ImportFailed):
    """Input that would take a parser or differ past one of its budgets (time or memory without bound).

    Raised *before* the expensive work where the cost can be predicted (unclosed
    markup, element counts, decompressed bytes) and at checkpoints where it
    cannot (the per-page time budget). ``page`` names the page or file, so a
    dump import or a scan can report it and go on with the next page.
    """

    def __init__(self, page: str, message: str) -> None:
        self.page = page
        super().__init__(f"{page}: {message}")


class NotFound(WikicoreError):
    """A slug, revision or file that does not exist."""


class EditConflict(WikicoreError):
    """A save whose base revision is no longer the article's latest revision.

    Carries both revisions so the user can diff them and merge by hand.
    """

    def __init__(self, slug: str, base: str | None, current: str | None) -> None:
        self.slug = slug
        self.base = base
        self.current = current
        if base is None:
            # No base means "a new article": saying it was "edited from (new article)" misleads.
            message = (
                f"edit conflict on {slug!r}: saved as a new article, but it already exists "
                f"(latest revision {current or '(none)'}); save an edit of it with --base"
            )
        else:
            message = f"edit conflict on {slug!r}: edited from {base}, but the latest revision is {current or '(none)'}"
        super().__init__(message)


class StoreError(WikicoreError):
    """The git store is in a state we refuse to write to."""


class StaleLock(StoreError):
    """A lock file that a crashed writer left behind."""

    def __init__(self, path: str, age_seconds: float) -> None:
        self.path = path
        self.age_seconds = age_seconds
        super().__init__(f"lock file {path} is held (age {age_seconds:.0f} s); remove it if no writer runs")


class WriteConflict(StoreError):
    """Another writer changed what a long write (a bulk import, an import of a dump) was about to change.

    An edit conflict, not bad input: nothing is lost (the write's own history is kept on the
    ref the message names), and the cure is the same as for :class:`EditConflict`: look at both
    and write again.
    """


class WikiBusy(StoreError):
    """Another writer held the wiki's writer lock for longer than we wait: try again later (not bad input)."""


class NetworkError(WikicoreError):
    """A network operation failed as a whole (not one URL's verdict)."""


class RateLimited(NetworkError):
    """The remote side asked us to slow down; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)
