"""The wiki's one branch: naming its commits, reading its tip, and moving it by compare-and-swap.

No lost edits: the branch moves only by ``git update-ref main NEW OLD``, which
git refuses unless ``main`` still points at ``OLD``, never by
``index.commit()``/``head.set_commit()``, which overwrite whatever a concurrent
writer published. Writers of wikicore are serialised by the writer lock, so a
swap loses only to a foreign ``git`` in the same repository. Every write (save,
rename, bulk import, ``import-dump``, ``migrate``) publishes through
:meth:`Branch.publish`, the one loop that reads the tip, has the writer build
on it and swaps, building again on the new tip when it lost. Publishing is the
last step of a write and one atomic ref update, so ``kill -9`` at any step
leaves the branch at the old or the new commit.

Revisions from users are parsed by :func:`parse_revision` before git sees them:
only ids, ``HEAD`` forms and ``~N`` pass, so no option or range reaches git.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from ..errors import InvalidRevision, NotFound, StoreError, WriteConflict
from .fastimport import FastImport
from .gitenv import GitRunner, crash_point
from .lock import WriterLock
from .objects import ObjectStore
from .tree import ARTICLES, slug_of_path

__all__ = ["BRANCH", "MAX_CAS_ATTEMPTS", "Branch", "counts_back", "parse_revision"]

#: The one branch a wiki lives on.
BRANCH = "refs/heads/main"
#: Compare-and-swap attempts before a save gives up on a branch that keeps moving.
MAX_CAS_ATTEMPTS = 20

_HEX_RE = re.compile(r"[0-9a-fA-F]{4,64}")
_HEAD_RE = re.compile(r"HEAD((?:~\d{1,9}|\^[12]?)*)")
_OWN_RE = re.compile(r"~(\d{1,9})")
# `latest~N` spells `~N` so that an unquoted shell word keeps it: bash expands a word that starts with
# `~` and a digit (`~0` is the current directory, `~1` the directory stack), and mirrors git's `HEAD~N`.
_LATEST_RE = re.compile(r"latest(?:~(\d{1,9}))?")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


#: The id of the empty tree, which git knows without storing it (SHA-1 repositories, all the store opens).
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def parse_revision(rev: str) -> str:
    """Return the git name for a user's revision, or raise :class:`InvalidRevision`.

    Accepted: full or abbreviated hex ids; ``HEAD`` with ``~N`` / ``^`` suffixes
    (``HEAD`` means the wiki's branch, whatever the repository's HEAD is, and
    ``HEAD~N`` counts commits of the whole wiki, as in git); and ``latest``,
    ``latest~N`` or ``~N``, the article's own revisions counted back from its
    latest (``latest`` and ``~0``), which only mean something together with a
    slug (returned as ``~N``; see :meth:`Wiki.resolve_for`). Everything else (options such as ``--output=x``,
    ranges, paths, ref names) is refused here, before any git process sees it.
    """
    if not isinstance(rev, str) or not rev:
        raise InvalidRevision("empty revision")
    shown = rev if len(rev) <= 80 else rev[:80] + "..."
    # fullmatch, not match: `$` would let "HEAD\n" through.
    if _HEX_RE.fullmatch(rev):
        return rev.lower()
    match = _HEAD_RE.fullmatch(rev)
    if match:
        return BRANCH + match.group(1)
    if _OWN_RE.fullmatch(rev):
        return rev
    latest = _LATEST_RE.fullmatch(rev)
    if latest:
        return f"~{int(latest.group(1) or 0)}"
    raise InvalidRevision(
        f"invalid revision {shown!r}: use a commit id (4-64 hex digits), latest or latest~N (the article's "
        "latest revision, or its Nth before that), HEAD, HEAD~N or HEAD^"
    )


def counts_back(name: str) -> int | None:
    """``N`` of an article's own revision ``~N`` (a name from :func:`parse_revision`), else None."""
    match = _OWN_RE.fullmatch(name)
    return int(match.group(1)) if match else None


class Branch:
    """``refs/heads/main`` of one wiki: its tip, the commits users name, and the one compare-and-swap loop."""

    def __init__(self, runner: GitRunner, objects: ObjectStore, lock: WriterLock) -> None:
        self._git = runner
        self._objects = objects
        self._lock = lock

    def tip(self) -> str | None:
        """The commit the branch points at, or None for a wiki without revisions."""
        ref = self._git.common_dir / BRANCH
        try:
            value = ref.read_text("ascii").strip()
            if _OBJECT_ID.fullmatch(value):
                return value
        except (OSError, UnicodeDecodeError):
            pass  # packed, symbolic or unreadable: let git answer
        out = self._git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", BRANCH + "^{commit}"],
                            check=False)
        return out.decode().strip() or None

    def resolve(self, rev: str) -> str:
        """The full commit id of a user's revision (see :func:`parse_revision`); ``~N`` is refused here."""
        name = parse_revision(rev)
        if counts_back(name) is not None:
            raise InvalidRevision(f"revision {rev!r} counts an article's revisions: give it with a slug")
        tip = self.tip()
        if tip is None:
            raise NotFound(f"revision {rev!r} not found: the wiki has no revisions yet")
        if name == BRANCH:
            return tip
        if len(name) == len(tip):
            # A full id: ask the persistent batch-check process instead of starting rev-parse.
            found = self._objects.header(name)
            if found is None:
                raise NotFound(f"revision {rev!r} not found in the wiki")
            sha, kind = found
            if kind != "commit":
                raise NotFound(f"revision {rev!r} is not a commit")
            return sha
        out = self._git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", name + "^{commit}"],
                            check=False)
        sha = out.decode().strip()
        # A hex string could also be a ref name; only a commit id that starts with it counts.
        if not sha or (not name.startswith(BRANCH) and not sha.startswith(name)):
            raise NotFound(f"revision {rev!r} not found (or ambiguous) in the wiki")
        return sha

    @staticmethod
    def commit_id(commit: str) -> str:
        """``commit`` if it is a full object id, else :class:`InvalidRevision`: for callers that pass ids they read.

        Only ids are accepted, never names git would resolve (a ref, ``HEAD~1``, an option): what a
        caller hands back must be the commit it saw, whatever the branch points at now.
        """
        if not isinstance(commit, str) or not _OBJECT_ID.fullmatch(commit):
            shown = repr(commit)[:80]
            raise InvalidRevision(f"invalid commit id {shown}: expected 40 or 64 lowercase hex digits")
        return commit

    # --- moving the branch ------------------------------------------------------

    def swap(self, new: str, old: str | None, reason: str) -> bool:
        """Move the branch from ``old`` to ``new`` only if it still points at ``old``; False if it did not.

        A swap that fails because a git lock file is in the way raises
        :class:`~wikicore.errors.StaleLock` instead (see :mod:`.lock`).
        """
        crash_point("before-update-ref")
        zero = "0" * len(new)
        try:
            self._git.run(["update-ref", "-m", reason, "--end-of-options", BRANCH, new, old or zero])
        except StoreError:
            self._lock.raise_if_locked()
            return False
        return True

    def publish(self, build: Callable[[str | None], str | None], reason: str, gave_up: str,
                attempts: int = MAX_CAS_ATTEMPTS) -> str | None:
        """Move the branch to the commit ``build`` makes on its tip; return that commit.

        ``build(tip)`` checks what it must against ``tip`` (raising to refuse),
        writes its objects and returns a commit whose parent is ``tip``, or None
        when there is nothing to publish (then so does this). If the branch moved
        in between, the swap fails and ``build`` runs again on the new tip, up to
        ``attempts`` times; then :class:`~wikicore.errors.WriteConflict` says ``gave_up``. The caller
        holds the writer lock.
        """
        for _ in range(attempts):
            tip = self.tip()
            new = build(tip)
            if new is None:
                return None
            if self.swap(new, tip, reason):
                return new
        raise WriteConflict(gave_up)

    def publish_built(self, new: str, base: str | None, reason: str, moved: str) -> None:
        """Publish ``new``, which ``git fast-import`` built on ``base``: one attempt, as it cannot be rebuilt.

        If the branch is no longer at ``base`` (a foreign git wrote),
        :class:`~wikicore.errors.WriteConflict` says ``moved``.
        """
        def build(tip: str | None) -> str:
            if tip != base:
                raise WriteConflict(moved)
            return new

        self.publish(build, reason, moved, attempts=1)

    # --- temporary refs of fast-import -------------------------------------------

    def fast_import(self, purpose: str, parent: str | None) -> FastImport:
        """A ``git fast-import`` stream onto a new temporary ref (``refs/wikicore/<purpose>-<id>``) on ``parent``.

        Its commits stay off the branch until :meth:`publish_built`; the ref
        keeps them reachable (and collectable by name) in between.
        """
        ref = f"refs/wikicore/{purpose}-{uuid.uuid4().hex[:12]}"
        return FastImport(self._git.git_dir, self._git.common_dir, self._git.env, ref, parent)

    def commit_at(self, ref: str) -> str:
        """The commit a (temporary) ref points at."""
        return self._git.run(["rev-parse", "--verify", "--end-of-options", ref]).decode().strip()

    def log_range(self, start: str | None, end: str) -> list[str]:
        """The commits after ``start`` up to ``end``, oldest first (all of ``end``'s if ``start`` is None)."""
        args = ["rev-list", "--reverse", "--topo-order", "--end-of-options", end, *([f"^{start}"] if start else [])]
        return self._git.run(args).decode().split()

    def changes_of(self, commits: list[str]) -> dict[str, list[tuple[str, int | str | None]]]:
        """Each commit's file changes against its first parent: ``(path, blob id or None for a deletion)``.

        One ``git diff-tree --stdin`` for all of them (a process per commit cost more than the replay).
        """
        found: dict[str, list[tuple[str, int | str | None]]] = {commit: [] for commit in commits}
        if not commits:
            return found
        out = self._git.run(["diff-tree", "--stdin", "--always", "--root", "-r", "-z", "--no-renames",
                             "--no-abbrev"], data="".join(f"{c}\n" for c in commits).encode())
        fields = out.split(b"\0")
        current: str | None = None
        index = 0
        while index < len(fields):
            field = fields[index]
            if field.startswith(b":") and current is not None:
                _, _, _, blob, status = field.split(b" ")
                path = fields[index + 1].decode("utf-8")
                found[current].append((path, None if status == b"D" else blob.decode()))
                index += 2
                continue
            if field:
                current = field.decode().strip()
            index += 1
        return found

    def changed_slugs(self, old: str | None, new: str) -> set[str]:
        """The articles whose file differs between two commits (either layout; None: every article at ``new``)."""
        base = old or EMPTY_TREE
        out = self._git.run(["diff-tree", "-r", "-z", "--no-renames", "--name-only", "--end-of-options",
                             base, new, "--", ARTICLES])
        return {slug for path in out.split(b"\0") if path
                for slug in [slug_of_path(path.decode("utf-8", "replace"))] if slug is not None}

    def drop(self, ref: str) -> None:
        """Delete a temporary ref (quietly: it may never have been written)."""
        self._git.run(["update-ref", "-d", "--end-of-options", ref], check=False)
