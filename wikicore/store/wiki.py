"""The git-backed wiki: every save is one commit on ``refs/heads/main``.

Layout: a git repository whose branch ``main`` holds the articles, each file
exactly :func:`wikicore.serialize.dumps` of its article, at
``articles/<hh>/<slug>.yaml`` (layout 2, sharded by a hash of the slug; see
:mod:`wikicore.store.tree`) or, in wikis made before it, ``articles/<slug>.yaml``
(layout 1; ``wikicore migrate`` moves them). Local state (the writer lock, the
crash marker, the layout marker, the collision index, audit's ``checks.sqlite``)
lives in ``.wikicore/`` next to ``.git`` and is listed in ``.git/info/exclude``.

Why it is built the way it is (issue 3 measured the alternatives):

* **No lost edits.** A save names the revision it was edited from (``base``);
  if the article's content at the tip differs from its content at ``base`` the
  save raises :class:`~wikicore.errors.EditConflict` with both revisions. The
  branch moves only by compare-and-swap (``git update-ref main NEW OLD``), never
  by ``index.commit()``/``head.set_commit()``, which overwrite blindly. Writers
  are serialised by an OS file lock (released by the kernel if a writer dies),
  and a CAS that still loses (a foreign ``git`` wrote) is retried on the new tip.
* **Crash safety.** A save writes objects first (blob, trees, commit: all
  unreachable until the last step) and publishes them by one atomic ref update,
  so ``kill -9`` at any step leaves the branch at the old or the new commit.
  ``WIKICORE_CRASH_AT=<step>`` kills the process at a named step for the tests
  (:data:`CRASH_STEPS`).
* **Speed.** Trees are edited as raw bytes and written with ``hash-object``
  (no index to rewrite); with the sharded layout a save rewrites three small
  trees whatever the wiki's size. Contents are read through GitPython's
  persistent ``cat-file --batch``; history is one ``git log`` per name the article
  had, which the commit-graph's changed-path Bloom filters make fast;
  the slug/title collision check asks an SQLite index (:mod:`.index`).
* **Safety.** Revisions from users are parsed by :func:`parse_revision` before
  git sees them; slugs go through :func:`wikicore.models.check_slug`; every git
  call runs with hooks and fsmonitor disabled through ``GIT_CONFIG_COUNT``
  (never by writing config), takes user data only after ``--end-of-options`` /
  ``--``, and gets messages and contents on stdin. Git's own output is captured,
  never passed through to the terminal. Every write path refuses an article
  that loading would refuse (:func:`stored_bytes`).

A wiki that ``Wiki.init`` creates is marked ``core.bare = true`` even though it
lives in ``<dir>/.git``: saves never touch a checkout, so a working tree would only
go stale, and ``git commit -a`` in a stale checkout would revert every article.
For the same reason ``init`` refuses to adopt a repository whose ``main`` is
checked out somewhere.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sqlite3
import subprocess
import threading
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import git
import yaml

from ..errors import (
    EditConflict,
    InvalidArticle,
    InvalidInput,
    InvalidRevision,
    InvalidSlug,
    NotFound,
    Problem,
    StoreError,
    WikicoreError,
)
from ..gcpause import paused_gc
from ..models import Article, check_slug
from ..revision import Revision
from ..serialize import MAX_BYTES, MAX_DEPTH, dumps, loads, to_data
from .fastimport import FastImport
from .gitenv import CRASH_STEPS, crash_point, git_env, run_git, text
from .index import CollisionIndex, collision_key
from .lock import WriterLock
from .tree import (
    ARTICLES,
    BLOB_MODE,
    LAYOUT_FLAT,
    LAYOUT_SHARDED,
    TREE_MODE,
    RawTree,
    is_shard,
    object_id,
    path_of,
    shard_of,
    slug_of_path,
)

if TYPE_CHECKING:
    from ..blame import Blame
    from ..diff import ArticleDiff

__all__ = [
    "BRANCH",
    "CRASH_STEPS",
    "DEFAULT_AUTHOR",
    "ImportResult",
    "Revision",
    "Unchanged",
    "Wiki",
    "collision_key",
    "parse_author",
    "parse_revision",
    "stored_bytes",
    "validate_slug",
]

#: The one branch a wiki lives on.
BRANCH = "refs/heads/main"
#: Directory of local, uncommitted state (lock, crash marker, layout, indexes, audit cache).
STATE_DIR = ".wikicore"
#: The file in :data:`STATE_DIR` that names the wiki's tree layout (absent: layout 1, the original).
LAYOUT_FILE = "layout"
#: Who commits when neither the caller nor ``$WIKICORE_AUTHOR`` says.
DEFAULT_AUTHOR = "wikicore <wikicore@localhost>"
#: Compare-and-swap attempts before a save gives up on a branch that keeps moving.
MAX_CAS_ATTEMPTS = 20
#: Longest commit message we accept (characters).
MAX_MESSAGE = 64 * 1024
#: Trailer on every commit written by ``import-dump``: its pages may be replaced by a later dump.
DUMP_TRAILER = "Wikicore-Import: dump"
#: Loose objects git's own ``gc --auto`` would tolerate (6,700); we estimate them as git does, from one
#: of the 256 fan-out directories, and repack incrementally beyond. A save writes about 5 objects, so the
#: wiki repacks every ~1,400 saves and disk grows with the content, not the number of saves.
GC_LOOSE_OBJECTS = 6700
#: Packs beyond which the incremental packs are merged into one (git's ``gc.autoPackLimit``).
GC_PACK_LIMIT = 50
#: A write of at least this many commits at once (import-dump with history) refreshes the commit-graph.
GRAPH_AFTER_COMMITS = 256

_HEX_RE = re.compile(r"[0-9a-fA-F]{4,64}")
_HEAD_RE = re.compile(r"HEAD((?:~\d{1,9}|\^[12]?)*)")
_OWN_RE = re.compile(r"~(\d{1,9})")
_TITLE_LINE = re.compile(rb"^title: (.*)$", re.M)
_AUTHOR_RE = re.compile(r"^\s*([^<>]+?)\s*<([^<>\s]+)>\s*$")
_AUTHOR_LINE = re.compile(rb"author (.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$")


# --- records -------------------------------------------------------------------

# `Wiki.list` shadows the builtin inside the class body; these aliases keep annotations readable.
_Slugs = list[str]
_Revisions = list[Revision]


@dataclass(frozen=True)
class _Raw:
    """One ``--raw`` line of ``git log``: what happened to one path in one commit."""

    status: str
    old: str
    new: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class _Commit:
    id: str
    author: str
    email: str
    date: _dt.datetime
    message: str

    def with_path(self, path: str) -> Revision:
        return Revision(id=self.id, short=self.id[:12], author=self.author, email=self.email, date=self.date,
                        message=self.message, path=path)


_Logged = list[tuple[Revision, str]]
#: Objects read per ``cat-file --batch`` run in bulk reads: bounds the memory one run holds.
_BATCH_READ = 500
_Latest = list[tuple[Article, Revision | None]]
_RawList = list[_Raw]
_TreeOut = list[tuple[bytes, str]]
_Folders = list[tuple[str, RawTree]]


@dataclass(frozen=True, eq=False)
class Unchanged(Revision):
    """What :meth:`Wiki.save` returns when the article is already stored as given: no commit was made.

    It is the article's latest revision (a :class:`Revision` like any other, and
    equal to it), so callers that ignore the difference keep working; the CLI can
    say ``no change`` (``isinstance(result, Unchanged)``).
    """

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Revision):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in Revision.__dataclass_fields__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f) for f in Revision.__dataclass_fields__))


@dataclass(frozen=True)
class ImportResult:
    """What a bulk import did: the commit it made (None if nothing changed) and the slugs it wrote."""

    commit: str | None
    slugs: tuple[str, ...]


# --- validation of user input ---------------------------------------------------


def parse_revision(rev: str) -> str:
    """Return the git name for a user's revision, or raise :class:`InvalidRevision`.

    Accepted: full or abbreviated hex ids; ``HEAD`` with ``~N`` / ``^`` suffixes
    (``HEAD`` means the wiki's branch, whatever the repository's HEAD is, and
    ``HEAD~N`` counts commits of the whole wiki, as in git); and ``~N``, the
    article's own revisions counted back from its latest (``~0``), which only
    means something together with a slug (returned unchanged; see
    :meth:`Wiki.resolve_for`). Everything else (options such as ``--output=x``,
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
    raise InvalidRevision(
        f"invalid revision {shown!r}: use a commit id (4-64 hex digits), ~N (the article's Nth revision "
        "before its latest), HEAD, HEAD~N or HEAD^"
    )


def parse_author(author: str | None) -> tuple[str, str]:
    """Split ``"Name <mail>"`` into ``(name, mail)``; ``None`` takes ``$WIKICORE_AUTHOR`` or the default.

    Names and mails end up in commit headers, where a newline or an angle
    bracket would forge or break a header, so both are refused.
    """
    value = author if author is not None else os.environ.get("WIKICORE_AUTHOR") or DEFAULT_AUTHOR
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidInput(f"author {value!r} contains a control character")
    match = _AUTHOR_RE.fullmatch(value)
    if not match or not match.group(1).strip():
        raise InvalidInput(f"author {value!r} is not of the form 'Name <mail>'")
    return match.group(1).strip(), match.group(2)


def _check_message(message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        raise InvalidInput("the commit message is empty")
    if len(message) > MAX_MESSAGE:
        raise InvalidInput(f"the commit message is longer than {MAX_MESSAGE} characters")
    for index, ch in enumerate(message):
        if (ord(ch) < 0x20 and ch not in "\n\t") or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            raise InvalidInput(f"the commit message has control character U+{ord(ch):04X} at {index}")
    return message.rstrip("\n") + "\n"


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it may name an article, else raise :class:`InvalidSlug` (see ``check_slug``)."""
    if not isinstance(slug, str):
        raise InvalidSlug(f"slug must be a string, not {type(slug).__name__}")
    try:
        return check_slug(slug)  # fullmatch throughout: no trailing newline slips through
    except ValueError as error:
        raise InvalidSlug(str(error)) from None


def _depth(value: Any) -> int:
    """Nesting depth as the YAML composer counts it: every node, scalars and keys included, is one level."""
    deepest, stack = 1, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if children:
            deepest = max(deepest, level + 1)  # its keys and scalar items
            stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def stored_bytes(article: Article) -> bytes:
    """The bytes an article is stored as, after refusing what loading it back would refuse.

    Loading enforces :data:`wikicore.serialize.MAX_BYTES` (on characters, and on
    bytes for files) and :data:`wikicore.serialize.MAX_DEPTH`; a save that let
    more through would store an article nobody can read again (issue 13: a 6 MB
    wikitext became a 12 MB blob that ``show`` refused). Every write path (save,
    rename, bulk import, import-dump) goes through here.
    """
    data = to_data(article)
    depth = _depth(data)
    source = f"article {article.slug!r}"
    if depth > MAX_DEPTH:
        raise InvalidArticle([Problem(f"nesting {depth} levels deep; the limit is {MAX_DEPTH}")], source)
    payload = dumps(article).encode("utf-8")
    if len(payload) > MAX_BYTES:
        raise InvalidArticle([Problem(
            f"it would be stored as {len(payload):,} bytes, over the {MAX_BYTES:,} that can be read back"
        )], source)
    return payload


# --- the wiki --------------------------------------------------------------------


class Wiki:
    """A wiki on disk. Open one with :meth:`open` or create one with :meth:`init`.

    A ``Wiki`` keeps two persistent ``git cat-file`` processes; :meth:`close` (or
    ``with Wiki.open(...) as wiki``) ends them. Use one ``Wiki`` per thread or
    process: those pipes are not shared safely. Writers in any number of
    processes are safe; they serialise on the lock in ``.wikicore/``.
    """

    def __init__(self, path: Path, repo: git.Repo) -> None:
        self.path = path
        self._repo = repo
        self.git_dir = Path(repo.git_dir)
        # Refs, locks and info/exclude live in the common dir (they differ in a linked worktree).
        self.common_dir = Path(repo.common_dir)
        self.state_dir = path / STATE_DIR
        self._env = git_env(self.git_dir)
        repo.git.update_environment(**self._env)
        self._hash_bytes: int | None = None
        self._lock = WriterLock(self.state_dir, self.common_dir,
                                [self.common_dir / f"{BRANCH}.lock", self.common_dir / "packed-refs.lock"])
        self._index = CollisionIndex(self.state_dir / "index.sqlite")
        self._commit_trees: dict[str, str] = {}
        self._trees: dict[str, bytes] = {}

    # --- opening -------------------------------------------------------------

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, adopt: bool = False) -> Wiki:
        """Create a wiki at ``path``; with ``adopt``, make the git repository already there one, if that is safe.

        Adoption is never implied: ``--wiki`` defaults to the current directory,
        often a code repository (issue 11). A repository is adopted only when no
        checkout would go stale: it is bare, or ``main`` is checked out nowhere,
        or it has no commits yet (then it is made bare, like a new wiki).
        Otherwise :class:`InvalidInput` says why and what to do instead (a bare clone).
        """
        path = Path(path).absolute()  # git runs with cwd=path: a relative path would nest
        if (path / ".git").exists() and not (path / STATE_DIR).is_dir() and not adopt:
            raise InvalidInput(
                f"{path} is a git repository but not a wiki: `wikicore init --adopt` makes it one "
                "(wikicore then commits to its main branch)"
            )
        try:
            if path.exists() and not path.is_dir():
                raise InvalidInput(f"{path} exists and is not a directory")
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InvalidInput(f"cannot create a wiki at {path}: {error.strerror or error}") from None
        fresh = not (path / ".git").exists()
        if fresh:
            env = git_env(None)
            # --template= : no sample hooks copied in; we never want hooks in a wiki.
            run_git(["init", "--quiet", "--template=", "--initial-branch=main", "--", str(path)], env, cwd=path)
            run_git(["config", "core.bare", "true"], git_env(path / ".git"), cwd=path)
        elif not (path / STATE_DIR).is_dir():
            _check_adoptable(path)
        try:
            (path / STATE_DIR).mkdir(exist_ok=True)  # the mark that makes it a wiki (see open)
        except OSError as error:
            raise InvalidInput(f"cannot create a wiki at {path}: {error.strerror or error}") from None
        wiki = cls.open(path)
        wiki._ensure_state()
        if not (wiki.state_dir / LAYOUT_FILE).exists():
            # A new wiki, or an adopted clone of a sharded one, is sharded; an old flat wiki stays
            # flat until `wikicore migrate`.
            tip = wiki.tip()
            if tip is None or wiki._detect_layout(tip) != LAYOUT_FLAT:
                wiki._write_layout(LAYOUT_SHARDED)
        return wiki

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Wiki:
        """Open the wiki at ``path``; raise :class:`NotFound` if there is no git repository there."""
        path = Path(path)
        if not path.is_dir():
            raise NotFound(f"no wiki at {path}: no such directory (create one with `wikicore init`)")
        if not (path / ".git").exists():
            raise NotFound(f"no wiki at {path}: not a git repository (create one with `wikicore init`)")
        try:
            repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotFound(f"no wiki at {path}: not a git repository (create one with `wikicore init`)") from None
        if not (path / STATE_DIR).is_dir():
            # --wiki defaults to the current directory: never commit into a code repository
            # (or any repository) that nobody made a wiki on purpose.
            repo.close()
            raise NotFound(f"{path} is a git repository but not a wiki (`wikicore init --adopt` there makes it one)")
        # GitPython's batch readers parse only 40-digit ids; refuse rather than fail mid-save.
        object_format = str(repo.config_reader().get_value("extensions", "objectformat", "sha1"))
        if object_format.lower() != "sha1":
            repo.close()
            raise StoreError(f"{path} uses {object_format} object ids; wikicore supports SHA-1 repositories only")
        return cls(path.resolve(), repo)

    def close(self) -> None:
        """End the persistent git processes and the index connection."""
        self._index.close()
        self._repo.close()

    def __enter__(self) -> Wiki:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Wiki({str(self.path)!r})"

    # --- local state ---------------------------------------------------------------

    @property
    def cache_path(self) -> Path:
        """Where derived, rebuildable data lives (``.wikicore/cache/``): safe to delete at any time."""
        return self.state_dir / "cache"

    @property
    def checks_path(self) -> Path:
        """Where the audit keeps this wiki's link and archive observations (``.wikicore/checks.sqlite``)."""
        return self.state_dir / "checks.sqlite"

    @property
    def layout(self) -> int:
        """The wiki's tree layout: 2 (sharded ``articles/<hh>/<slug>.yaml``) or 1 (flat, before ``migrate``)."""
        try:
            value = (self.state_dir / LAYOUT_FILE).read_text("ascii").strip()
        except FileNotFoundError:
            return LAYOUT_FLAT
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(f"cannot read {self.state_dir / LAYOUT_FILE}: {error}") from None
        if value not in ("1", "2"):
            raise StoreError(f"{self.state_dir / LAYOUT_FILE} names layout {value[:20]!r}; this wikicore knows 1 and 2")
        return int(value)

    def _detect_layout(self, commit: str) -> int | None:
        """The layout a commit's tree is in: flat if any article is (until migrated), None without articles."""
        trees = self._article_trees(commit)
        if not trees:
            return None
        top = trees[0][1]
        flat = any(mode != TREE_MODE and name.endswith(b".yaml") for name, mode in zip(top.names, top.modes,
                                                                                        strict=True))
        if flat:
            return LAYOUT_FLAT
        return LAYOUT_SHARDED if len(trees) > 1 else None

    def _write_layout(self, layout: int) -> None:
        target = self.state_dir / LAYOUT_FILE
        tmp = self.state_dir / f"{LAYOUT_FILE}.{os.getpid()}.tmp"
        try:
            tmp.write_text(f"{layout}\n", "ascii")
            os.replace(tmp, target)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"could not write {target}: {error.strerror or error}") from None

    # --- reading -------------------------------------------------------------

    def tip(self) -> str | None:
        """The commit the branch points at, or None for a wiki without revisions."""
        ref = self.common_dir / BRANCH
        try:
            value = ref.read_text("ascii").strip()
            if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value):
                return value
        except (OSError, UnicodeDecodeError):
            pass  # packed, symbolic or unreadable: let git answer
        out = self._git(["rev-parse", "--verify", "--quiet", "--end-of-options", BRANCH + "^{commit}"], check=False)
        return out.decode().strip() or None

    def resolve(self, rev: str) -> str:
        """The full commit id of a user's revision (see :func:`parse_revision` for what is accepted).

        ``~N`` needs an article to count revisions of: use :meth:`resolve_for`.
        """
        name = parse_revision(rev)
        if _OWN_RE.fullmatch(name):
            raise InvalidRevision(f"revision {rev!r} counts an article's revisions: give it with a slug")
        tip = self.tip()
        if tip is None:
            raise NotFound(f"revision {rev!r} not found: the wiki has no revisions yet")
        if name == BRANCH:
            return tip
        if len(name) == len(tip):
            # A full id: ask the persistent batch-check process instead of starting rev-parse.
            try:
                sha, kind, _ = self._repo.git.get_object_header(name)
            except ValueError:
                raise NotFound(f"revision {rev!r} not found in the wiki") from None
            if text(kind) != "commit":
                raise NotFound(f"revision {rev!r} is not a commit")
            return text(sha)
        out = self._git(["rev-parse", "--verify", "--quiet", "--end-of-options", name + "^{commit}"], check=False)
        sha = out.decode().strip()
        # A hex string could also be a ref name; only a commit id that starts with it counts.
        if not sha or (not name.startswith(BRANCH) and not sha.startswith(name)):
            raise NotFound(f"revision {rev!r} not found (or ambiguous) in the wiki")
        return sha

    def resolve_for(self, slug: str, rev: str) -> str:
        """The commit id of ``rev`` for article ``slug``: as :meth:`resolve`, and ``~N`` counts its own revisions.

        ``~0`` is the article's latest revision, ``~1`` the one before, following
        renames (the revisions :meth:`history` lists, newest first).
        """
        name = parse_revision(rev)
        match = _OWN_RE.fullmatch(name)
        if match is None:
            return self.resolve(rev)
        back = int(match.group(1))
        revisions = self.history(slug)
        if back >= len(revisions):
            count = len(revisions)
            plural = "s" if count != 1 else ""
            raise NotFound(f"article {slug!r} has {count} revision{plural}: ~{back} is before its first")
        return revisions[back].id

    def list(self) -> _Slugs:
        """Slugs of every article at the tip, sorted."""
        tip = self.tip()
        if tip is None:
            return []
        return self._slugs_at(tip)

    def latest_all(self) -> _Latest:
        """Every article at the tip with the last revision that changed it (as :meth:`latest`), by slug.

        For wiki-wide work such as ``audit --all``: the tip's tree is read once,
        every blob read through one ``cat-file --batch`` stream and parsed once,
        and one ``git log`` walk finds every article's last change
        (:meth:`latest_revisions`). Calling :meth:`load` and :meth:`latest` per
        article walked history once per article, which made ``audit --all``
        quadratic (issue 13). None where the walk cannot see the change (a
        shallow clone), as :meth:`latest` would say.
        """
        tip = self.tip()
        if tip is None:
            return []
        entries = sorted(self._articles_at(tip).items())
        revisions = self.latest_revisions()
        result: _Latest = []
        with paused_gc():  # parsing 8,000 articles: 4.0 s with the collector, 1.9 s without
            for start in range(0, len(entries), _BATCH_READ):
                chunk = entries[start:start + _BATCH_READ]
                texts = dict(self._read_many(blob for _, (_, blob) in chunk))
                result.extend((self._parse(texts[blob], f"{tip[:12]}:{path}"), revisions.get(slug))
                              for slug, (path, blob) in chunk)
        return result

    def latest_revisions(self) -> dict[str, Revision]:
        """The latest revision of every article at the tip, by slug, from one walk of history.

        What ``latest`` gives one article at a time, in one ``git log`` that
        stops as soon as every article has been seen. Layout migrations, which
        move a file without changing it, are not revisions of the article.
        """
        tip = self.tip()
        if tip is None:
            return {}
        wanted = {slug: path for slug, (path, _) in self._articles_at(tip).items()}
        found: dict[str, Revision] = {}
        if not wanted:
            return found
        for commit, entries in self._walk(tip, [ARTICLES]):
            for slug in _changed_slugs(entries):
                if slug in wanted and slug not in found:
                    found[slug] = commit.with_path(wanted[slug])
            if len(found) == len(wanted):
                break
        return found

    def load_text(self, slug: str, rev: str | None = None) -> str:
        """The stored text of an article, exactly as committed, at ``rev`` (default: latest)."""
        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        return self._read(commit, self._path_at(slug, commit)).decode("utf-8")

    def load(self, slug: str, rev: str | None = None) -> Article:
        """The article ``slug`` at ``rev`` (default: latest), validated."""
        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        path = self._path_at(slug, commit)
        return self._parse(self._read(commit, path), f"{commit[:12]}:{path}")

    def latest(self, slug: str) -> Revision | None:
        """The last revision that changed ``slug`` (under its current name), or None."""
        slug = validate_slug(slug)
        tip = self.tip()
        if tip is None:
            return None
        here = self._locate(tip, slug)
        if here is None:
            return None
        for revision, _ in self._iter_log(tip, here[0]):
            return replace(revision, path=here[0])
        return None

    def history(self, slug: str) -> _Revisions:
        """Every revision of ``slug``, newest first, following renames."""
        return [revision for revision, _ in self.log_blobs(slug)]

    def log_blobs(self, slug: str, rev: str | None = None) -> _Logged:
        """Every revision of ``slug`` up to ``rev`` (default: the tip), newest first, with the article's blob id.

        One ``git log --raw`` per name the article had: blame and history need no extra git
        process per revision, and a blob id is a cache key for a parsed article.
        """
        slug = validate_slug(slug)
        tip = self.tip()
        if tip is None:
            raise NotFound(f"no article {slug!r} in the wiki")
        if rev is None:
            here = self._locate(tip, slug)
            if here is None:
                raise NotFound(f"no article {slug!r} in the wiki")
            return self._log(tip, here[0])
        commit = self.resolve_for(slug, rev)
        return self._log(commit, self._path_at(slug, commit))

    def diff(self, slug: str, a: str | None = None, b: str | None = None) -> ArticleDiff:
        """The semantic diff of ``slug`` between revisions ``a`` and ``b``.

        Defaults: ``b`` is the latest revision, ``a`` the one before the article's
        latest change (for a new article, the empty article, so everything is added).
        ``~N`` counts the article's own revisions.
        """
        from ..diff import diff_articles  # the diff builds on the store, not the other way round

        slug = validate_slug(slug)
        tip = self.tip()
        if tip is None:
            raise NotFound(f"no article {slug!r} in the wiki")
        if a is None and b is None:
            revisions = self.history(slug)
            new_rev = revisions[0]
            old_rev = revisions[1] if len(revisions) > 1 else None
            new = self._parse(self._read(new_rev.id, new_rev.path), new_rev.path)
            old = self._parse(self._read(old_rev.id, old_rev.path), old_rev.path) if old_rev else None
            return diff_articles(old, new, old_revision=old_rev.id if old_rev else None, new_revision=new_rev.id)
        new_commit = self.resolve_for(slug, b) if b is not None else tip
        old_commit = self.resolve_for(slug, a) if a is not None else tip
        old = self._parse(self._read(old_commit, path := self._path_at(slug, old_commit)), path)
        new = self._parse(self._read(new_commit, path := self._path_at(slug, new_commit)), path)
        return diff_articles(old, new, old_revision=old_commit, new_revision=new_commit)

    def blame(self, slug: str, rev: str | None = None) -> Blame:
        """Who introduced each claim and citation of ``slug`` as of ``rev`` (default: latest)."""
        from ..blame import blame_blobs  # blame builds on the store, not the other way round

        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        path = self._path_at(slug, commit)
        revisions = [(r, blob) for r, blob in self._log(commit, path)[::-1]]  # the log carries blob ids

        def load(items: Sequence[tuple[str, Revision]]) -> Iterator[Article]:
            with paused_gc():  # parsing 8,000 articles: 4.0 s with the collector, 1.9 s without
                for start in range(0, len(items), _BATCH_READ):
                    chunk = items[start:start + _BATCH_READ]
                    texts = dict(self._read_many(blob for blob, _ in chunk))
                    for blob, r in chunk:
                        yield self._parse(texts[blob], f"{r.short}:{r.path}")

        return blame_blobs(slug, revisions, load, cache_dir=self.cache_path)

    # --- the collision index ---------------------------------------------------

    def check_index(self) -> _Slugs:
        """Differences between the collision index and the tip's tree it claims to describe (empty: sound)."""
        tip = self.tip()
        actual = {slug: blob for slug, (_, blob) in self._articles_at(tip).items()} if tip else {}
        problems: _Slugs = []
        described = self._index.described()
        current = self._articles_tree_id(tip) if tip else ""
        if described != current:
            problems.append(f"the index describes tree {described or '(none)'}, the tip has {current or '(none)'}")
        rows = self._index.rows()
        for slug in sorted(actual.keys() | rows.keys()):
            have, want = rows.get(slug, (None, ""))[0], actual.get(slug)
            if have != want:
                problems.append(f"{slug}: index has {have or '(nothing)'}, the tree has {want or '(nothing)'}")
            elif want is not None and rows[slug][1] != self._title_key(want):
                problems.append(f"{slug}: the title key in the index is out of date")
        return problems

    def rebuild_index(self) -> int:
        """Rebuild the collision index from the tip's tree, under the writer lock; return the articles indexed."""
        with self._writing():
            tip = self.tip()
            self._index.replace_all([], "-")  # forget: the sync below reads every article
            self._sync_index(tip)
            return len(self._index.rows())

    # --- writing -------------------------------------------------------------

    def save(
        self, article: Article, message: str, author: str | None = None, base: str | None = None
    ) -> Revision:
        """Commit ``article``; return the new revision.

        ``base`` is the revision the article was edited from. ``base=None`` means
        "this is a new article": if one with the slug exists, that is an edit
        conflict, never an overwrite. Otherwise the article's content at ``base``
        must equal its content at the tip, or :class:`EditConflict` names both
        revisions. A save that changes nothing makes no commit and returns the
        latest revision as :class:`Unchanged`. Saves of different articles never conflict.
        """
        if not isinstance(article, Article):
            raise InvalidInput("save() takes an Article")
        slug = validate_slug(article.slug)
        message_text = _check_message(message)
        name, email = parse_author(author)
        base_commit = self.resolve_for(slug, base) if base is not None else None
        payload = stored_bytes(article)
        if self._hash_bytes is None and (tip := self.tip()) is not None:
            self._hash_len(tip)
        blob = self._write_object(b"blob", payload)
        crash_point("after-hash-object")
        with self._writing():
            layout = self.layout
            expected = self._locate(base_commit, slug) if base_commit else None
            for _ in range(MAX_CAS_ATTEMPTS):
                tip = self.tip()
                here = self._locate(tip, slug) if tip else None
                if (here and here[1]) != (expected and expected[1]):
                    latest = self.latest(slug)
                    raise EditConflict(slug, base_commit, latest.id if latest else tip)
                if here is not None and here[1] == blob:
                    latest = self.latest(slug)
                    assert latest is not None
                    return Unchanged(**{f: getattr(latest, f) for f in Revision.__dataclass_fields__})
                self._sync_index(tip)
                title_key = collision_key(article.title)
                row = self._index.row(slug)
                if here is None or row is None or row[1] != title_key:
                    self._refuse_collision(slug, article.title, ignore=(slug,))
                changes: dict[str, str | None] = {path_of(slug, layout): blob}
                if here is not None and here[0] != path_of(slug, layout):
                    changes[here[0]] = None  # left in the other layout: move it
                tree = self._tree_with(tip, changes)
                crash_point("after-mktree")
                commit = self._commit(tree, tip, message_text, name, email)
                crash_point("after-commit-tree")
                if self._compare_and_swap(commit, tip, f"wikicore: save {slug}"):
                    crash_point("after-update-ref")
                    self._record(commit, {slug: (blob, title_key)})
                    self._housekeeping()
                    return self._revision(commit, path_of(slug, layout))
        raise StoreError(f"could not save {slug!r}: the branch kept moving under us")

    def rename(self, old: str, new: str, message: str | None = None, author: str | None = None) -> Revision:
        """Rename an article (its file and its ``slug`` field) in one commit; history follows it."""
        old, new = validate_slug(old), validate_slug(new)
        if old == new:
            raise InvalidInput(f"cannot rename {old!r} to itself")
        message_text = _check_message(message or f"Rename {old} to {new}")
        name, email = parse_author(author)
        with self._writing():
            layout = self.layout
            for _ in range(MAX_CAS_ATTEMPTS):
                tip = self.tip()
                here = self._locate(tip, old) if tip else None
                if tip is None or here is None:
                    raise NotFound(f"no article {old!r} in the wiki")
                if self._locate(tip, new) is not None:
                    raise InvalidSlug(f"an article {new!r} already exists")
                self._sync_index(tip)
                article = self._parse(self._read(tip, here[0]), here[0])
                self._refuse_collision(new, None, ignore=(old, new))
                moved = article.model_copy(update={"slug": new})  # `new` passed check_slug above
                blob_id = self._write_object(b"blob", stored_bytes(moved))
                tree = self._tree_with(tip, {path_of(new, layout): blob_id, here[0]: None})
                commit = self._commit(tree, tip, message_text, name, email)
                if self._compare_and_swap(commit, tip, f"wikicore: rename {old} {new}"):
                    self._record(commit, {old: None, new: (blob_id, collision_key(article.title))})
                    self._housekeeping()
                    return self._revision(commit, path_of(new, layout))
        raise StoreError(f"could not rename {old!r}: the branch kept moving under us")

    def import_articles(self, articles: Iterable[Article], message: str, author: str | None = None,
                        sources: Sequence[str] | None = None) -> ImportResult:
        """Bring many new articles in as one commit, with the rules of :meth:`save` for each.

        Every article must be new (an existing slug is an :class:`EditConflict`,
        as ``save(..., base=None)`` would raise), must not collide with another
        article or with another of the batch, and must be storable
        (:func:`stored_bytes`). Nothing is committed unless all pass. Written
        through one ``git fast-import`` stream under the writer lock: thousands of
        articles a second. ``sources`` (e.g. file names), parallel to
        ``articles``, name the culprit in errors.
        """
        text_message = _check_message(message)
        name, email = parse_author(author)
        now = int(_dt.datetime.now(_dt.UTC).timestamp())
        ident = f"{name} <{email}> {now} +0000"
        items = list(articles)

        def named(error: WikicoreError, index: int) -> WikicoreError:
            where = sources[index] if sources is not None and index < len(sources) else None
            return error if where is None else type(error)(*_with_source(error, where))

        # Validate and serialise before taking the lock: other writers wait only for the git part.
        payloads: list[tuple[str, bytes]] = []
        for index, article in enumerate(items):
            try:
                if not isinstance(article, Article):
                    raise InvalidInput("import_articles() takes Articles")
                payloads.append((validate_slug(article.slug), stored_bytes(article)))
            except WikicoreError as error:
                raise named(error, index) from None
        with self.bulk() as bulk:
            for index, (article, (slug, payload)) in enumerate(zip(items, payloads, strict=True)):
                if bulk.exists(slug):
                    raise EditConflict(slug, None, bulk.latest_id(slug))
                try:
                    bulk.claim(slug, article.title)
                except WikicoreError as error:
                    raise named(error, index) from None
                bulk.add(slug, payload, article.title)
            if not bulk.pending:
                return ImportResult(None, ())
            bulk.commit(ident, text_message)
            commit = bulk.finish(f"wikicore: import {len(items)} articles")
        return ImportResult(commit, tuple(a.slug for a in items))

    @contextlib.contextmanager
    def bulk(self) -> Iterator[Bulk]:
        """A :class:`Bulk` writer under the writer lock (for bulk import and ``import-dump``).

        The caller adds articles and commits; :meth:`Bulk.finish` publishes by
        compare-and-swap. Leaving the block without ``finish`` (or by an
        exception) discards everything written.
        """
        with self._writing():
            tip = self.tip()
            self._sync_index(tip)
            writer = Bulk(self, tip)
            try:
                yield writer
            finally:
                writer.discard()

    def migrate(self, author: str | None = None) -> str | None:
        """Move every article to the sharded layout in one commit; return it (None if nothing moved).

        Each file moves unchanged, so history, blame and diff follow every
        article across the move, and the move is not counted as a
        revision of any article. Idempotent: a wiki already sharded gets no commit.
        """
        name, email = parse_author(author)
        with self._writing():
            tip = self.tip()
            moves: list[tuple[str, str]] = []
            if tip is not None:
                for slug, (path, blob) in sorted(self._articles_at(tip).items()):
                    if path != path_of(slug, LAYOUT_SHARDED):
                        moves.append((path, blob))
            if not moves:
                self._write_layout(LAYOUT_SHARDED)
                return None
            now = int(_dt.datetime.now(_dt.UTC).timestamp())
            ref = f"refs/wikicore/migrate-{uuid.uuid4().hex[:12]}"
            writer = FastImport(self.git_dir, self.common_dir, self._env, ref, tip)
            try:
                changes: list[tuple[str, int | str | None]] = []
                for path, blob in moves:
                    moved = slug_of_path(path)
                    assert moved is not None
                    changes.append((path, None))
                    changes.append((path_of(moved, LAYOUT_SHARDED), blob))
                writer.commit(f"{name} <{email}> {now} +0000",
                              f"Move {len(moves)} articles to the sharded layout (articles/<hh>/<slug>.yaml)\n",
                              changes)
                writer.finish()
            except BaseException:
                writer.abort()
                self._git(["update-ref", "-d", "--end-of-options", ref], check=False)
                raise
            new = self._git(["rev-parse", "--verify", "--end-of-options", ref]).decode().strip()
            self._git(["update-ref", "-d", "--end-of-options", ref], check=False)
            if not self._compare_and_swap(new, tip, "wikicore: migrate to layout 2"):
                raise StoreError(f"{BRANCH} moved during the migration; nothing was changed (run it again)")
            self._write_layout(LAYOUT_SHARDED)
            self._sync_index(new)
            self._housekeeping()
            return new

    # --- internals: git ---------------------------------------------------------

    def _git(self, args: _Slugs, data: bytes | None = None, check: bool = True,
             env: Mapping[str, str] | None = None) -> bytes:
        return run_git(args, {**self._env, **env} if env else self._env, cwd=self.path, data=data, check=check)

    def _read(self, commit: str, path: str) -> bytes:
        try:
            _, kind, _, data = self._repo.git.get_object_data(f"{commit}:{path}")
        except ValueError:
            raise NotFound(f"no {path} at revision {commit[:12]}") from None
        if text(kind) != "blob":
            raise NotFound(f"{path} at revision {commit[:12]} is not a file")
        return bytes(data)

    def _object(self, name: str) -> bytes:
        try:
            return bytes(self._repo.git.get_object_data(name)[3])
        except ValueError:
            raise StoreError(f"object {name} is missing from the wiki (run `git fsck`)") from None

    def _has_object(self, name: str) -> bool:
        try:
            self._repo.git.get_object_header(name)
        except ValueError:
            return False
        return True

    def _entry(self, commit: str | None, path: str) -> str | None:
        """The blob id at ``commit:path`` or None, walking cached trees (no git round trip when warm)."""
        if commit is None:
            return None
        found = self._lookup(commit, path)
        return found[1] if found is not None and found[0] != TREE_MODE else None

    def _lookup(self, commit: str, path: str) -> tuple[bytes, str] | None:
        """``(mode, id)`` of the entry at ``commit:path``, or None."""
        try:
            sha: str | None = self._commit_tree(commit)
        except StoreError:
            return None
        mode = TREE_MODE
        hash_bytes = self._hash_len(commit)
        for part in path.encode("utf-8").split(b"/"):
            if sha is None or mode != TREE_MODE:
                return None
            tree = RawTree(self._tree_raw(sha), hash_bytes)
            index = tree.find(part)
            if index is None:
                return None
            mode, sha = tree.modes[index], tree.shas[index].hex()
        return (mode, sha) if sha is not None else None

    def _commit_tree(self, commit: str) -> str:
        """The root tree id of a commit (commits never change, so the answer is cached)."""
        tree = self._commit_trees.get(commit)
        if tree is None:
            raw = self._object(f"{commit}^{{commit}}")
            tree = raw.split(b"\n", 1)[0].removeprefix(b"tree ").decode()
            if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):  # an id, not a name that can move
                if len(self._commit_trees) > 4096:
                    self._commit_trees.clear()
                self._commit_trees[commit] = tree
        return tree

    def _tree_raw(self, sha: str) -> bytes:
        """A tree object by id; the trees a save reads (root, ``articles``, a shard) stay cached."""
        raw = self._trees.get(sha)
        if raw is None:
            raw = self._object(sha)
            self._remember_tree(sha, raw)
        return raw

    def _remember_tree(self, sha: str, raw: bytes) -> None:
        if len(self._trees) > 1024:
            self._trees.clear()
        self._trees[sha] = raw

    def _locate(self, commit: str | None, slug: str) -> tuple[str, str] | None:
        """``(path, blob id)`` of ``slug`` at ``commit`` in either layout, or None."""
        if commit is None:
            return None
        first = LAYOUT_SHARDED if self.layout == LAYOUT_SHARDED else LAYOUT_FLAT
        for layout in (first, LAYOUT_FLAT if first == LAYOUT_SHARDED else LAYOUT_SHARDED):
            path = path_of(slug, layout)
            blob = self._entry(commit, path)
            if blob is not None:
                return path, blob
        return None

    def _parse(self, data: bytes, source: str) -> Article:
        try:
            return loads(data.decode("utf-8"), "yaml", source=source)
        except UnicodeDecodeError:
            raise InvalidArticle([], f"{source}: not UTF-8") from None

    def _commit_for(self, rev: str | None, slug: str) -> str:
        if rev is not None:
            return self.resolve_for(slug, rev)
        tip = self.tip()
        if tip is None:
            raise NotFound(f"no article {slug!r} in the wiki (it has no revisions yet)")
        return tip

    def _path_at(self, slug: str, commit: str) -> str:
        """Where ``slug`` (its current name) lived at ``commit``, following renames and layout moves."""
        here = self._locate(commit, slug)
        if here is not None:
            return here[0]
        tip = self.tip()
        now = self._locate(tip, slug) if tip is not None else None
        if tip is not None and now is not None:
            known = {r.id: r.path for r, _ in self._log(tip, now[0])}
            for line in self._git(["rev-list", "--end-of-options", commit]).decode().split():
                if line in known:
                    return known[line]
        raise NotFound(f"no article {slug!r} at revision {commit[:12]}")

    def _walk(self, start: str, paths: Sequence[str]) -> Iterator[tuple[_Commit, _RawList]]:
        """Commits from ``start`` that touch ``paths``, newest first, each with its raw changes.

        Streamed from one ``git log --raw -z``: a caller that has what it needs
        stops reading and the process is ended.
        """
        args = ["git", "log", "-z", "--raw", "--no-abbrev", "--no-color", "--no-show-signature", "--no-renames",
                "--format=%x1e%H%x00%an%x00%ae%x00%aI%x00%B%x00"]
        args += ["--end-of-options", start, "--", *paths]
        try:
            proc = subprocess.Popen(args, cwd=self.path, env=self._env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise StoreError("git is not installed (or not on PATH)") from None
        assert proc.stdout is not None
        try:
            pending = b""
            while True:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                pending += chunk
                records = pending.split(b"\x1e")
                pending = records.pop()
                for record in records:
                    if record:
                        yield _parse_record(record)
                if not chunk:
                    if pending:
                        yield _parse_record(pending)
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()

    def _log(self, start: str, path: str) -> _Logged:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames."""
        return list(self._iter_log(start, path))

    def _iter_log(self, start: str, path: str) -> Iterator[tuple[Revision, str]]:
        """Revisions of the article at ``path`` as of ``start``, newest first, with blob ids, following renames.

        Renames are followed here rather than by ``git log --follow``, which
        cannot use the commit-graph's changed-path Bloom filters: with them a
        walk skips every commit that does not touch the path without opening a
        tree (history in a wiki of 10,000 revisions: 30 ms instead of 0.5 s of
        CPU). Where the file appears, the commit is asked where it came from: the
        same slug in the other layout with the same blob is a ``migrate`` move
        (followed, not a revision); otherwise git's rename detection on that one
        commit names the old path (``Wiki.rename``, or a ``git mv``).
        """
        current, since = path, start
        seen: set[str] = set()
        while True:
            followed = None
            for commit, entries in self._walk(since, [current]):
                entry = next((e for e in entries if e.path == current), None)
                if entry is None or entry.status == "D":
                    continue
                source = self._rename_source(commit.id, current, entry.new) if entry.status == "A" else None
                if source is None or not source[1]:
                    yield commit.with_path(entry.path), entry.new
                if source is not None:
                    followed = (commit.id, source[0])
                    break
            if followed is None or followed[0] in seen:
                return
            seen.add(followed[0])
            since, current = f"{followed[0]}^", followed[1]

    def _rename_source(self, commit: str, path: str, blob: str) -> tuple[str, bool] | None:
        """Where the file added at ``path`` by ``commit`` came from: ``(old path, pure layout move)``, or None."""
        parent = self._parent(commit)
        if parent is None:
            return None
        slug = slug_of_path(path)
        if slug is not None:
            for layout in (LAYOUT_FLAT, LAYOUT_SHARDED):
                other = path_of(slug, layout)
                if other != path and self._entry(parent, other) == blob and self._entry(commit, other) is None:
                    return other, True
        out = self._git(["diff-tree", "-r", "-M", "-z", "--raw", "--no-abbrev", "--no-commit-id",
                         "--end-of-options", parent, commit])
        fields = out.split(b"\0")
        index = 0
        while index < len(fields):
            meta = fields[index]
            if meta.startswith(b":") and meta.split(b" ")[-1][:1] == b"R" and index + 2 < len(fields):
                old, new = fields[index + 1].decode("utf-8", "replace"), fields[index + 2].decode("utf-8", "replace")
                if new == path:
                    return old, False
                index += 3
            else:
                index += 2 if meta.startswith(b":") else 1
        return None

    def _parent(self, commit: str) -> str | None:
        """The first parent of a commit, from the raw object."""
        for line in self._object(commit).split(b"\n\n", 1)[0].split(b"\n"):
            if line.startswith(b"parent "):
                return line[7:].decode()
        return None

    def _revision(self, commit: str, path: str) -> Revision:
        """A :class:`Revision` read from the raw commit object (no extra git process)."""
        raw = self._object(commit)
        header, _, body = raw.partition(b"\n\n")
        author = next((line for line in header.split(b"\n") if line.startswith(b"author ")), b"")
        match = _AUTHOR_LINE.match(author)
        if not match:
            raise StoreError(f"commit {commit[:12]} has no readable author")
        sign = 1 if match.group(4) == b"+" else -1
        zone = _dt.timezone(sign * _dt.timedelta(hours=int(match.group(5)), minutes=int(match.group(6))))
        return Revision(
            id=commit, short=commit[:12], author=match.group(1).decode("utf-8", "replace"),
            email=match.group(2).decode("utf-8", "replace"),
            date=_dt.datetime.fromtimestamp(int(match.group(3)), zone),
            message=body.decode("utf-8", "replace").rstrip("\n"), path=path,
        )

    def _hash_len(self, sample: str) -> int:
        if self._hash_bytes is None:
            self._hash_bytes = len(sample) // 2
        return self._hash_bytes

    def _articles_tree_id(self, commit: str) -> str:
        root = RawTree(self._tree_raw(self._commit_tree(commit)), self._hash_len(commit))
        return root.entry_id(ARTICLES.encode()) or ""

    def _article_trees(self, commit: str) -> _Folders:
        """``(directory, tree)`` of the ``articles`` tree and each shard under it, at ``commit``."""
        hash_bytes = self._hash_len(commit)
        sha = self._articles_tree_id(commit)
        if not sha:
            return []
        articles = RawTree(self._tree_raw(sha), hash_bytes)
        shards = {tree_sha: shard.decode() for shard, tree_sha in articles.trees() if is_shard(shard)}
        # One cat-file stream for the shards (256 round trips through the batch pipe cost 10x more).
        raws = {sha: self._trees[sha] for sha in shards if sha in self._trees}
        missing = [sha for sha in shards if sha not in raws]
        if len(missing) > 32:
            raws.update(self._read_many(missing))
        else:
            raws.update((sha, self._tree_raw(sha)) for sha in missing)
        found: _Folders = [(ARTICLES, articles)]
        found += [(f"{ARTICLES}/{prefix}", RawTree(raws[tree_sha], hash_bytes))
                  for tree_sha, prefix in sorted(shards.items(), key=lambda item: item[1])]
        return found

    def _slugs_at(self, commit: str) -> _Slugs:
        """Slugs of every article at ``commit``, sorted: the names alone, no per-article Python object."""
        slugs: set[str] = set()
        for _, tree in self._article_trees(commit):
            slugs.update(name[:-5].decode("utf-8", "replace")
                         for name, mode in zip(tree.names, tree.modes, strict=True)
                         if mode != TREE_MODE and name.endswith(b".yaml"))
        return sorted(slugs)

    def _articles_at(self, commit: str) -> dict[str, tuple[str, str]]:
        """slug -> (path, blob id) of every article at ``commit``, in either layout."""
        found: dict[str, tuple[str, str]] = {}
        for folder, tree in self._article_trees(commit):
            for name, mode, sha in zip(tree.names, tree.modes, tree.shas, strict=True):
                if mode != TREE_MODE and name.endswith(b".yaml"):
                    text_name = name.decode("utf-8", "replace")
                    found[text_name[:-5]] = (f"{folder}/{text_name}", sha.hex())
        return found

    def _write_object(self, kind: bytes, raw: bytes) -> str:
        """Write one loose object the way git does (zlib, a temporary file, a rename); return its id.

        In-process, because a ``git hash-object`` per save cost more than the
        hashing (a fork and exec of ~8 ms on a busy machine, twice per save). The
        object is unreachable until a commit that names it is published, so a
        crash at any point leaves at most a dangling object, as with git itself.
        """
        hash_bytes = self._hash_bytes or 20
        sha = object_id(kind, raw, hash_bytes)
        folder = self.common_dir / "objects" / sha[:2]
        target = folder / sha[2:]
        if target.exists():
            return sha
        tmp = folder / f"tmp_obj_{os.getpid()}_{threading.get_ident()}"
        try:
            folder.mkdir(exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(zlib.compress(b"%s %d\0" % (kind, len(raw)) + raw, 1))
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except OSError as error:  # disk full, read-only: nothing is published, say so in one line
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(f"could not write to {folder}: {error.strerror or error}") from None
        return sha

    def _write_trees(self, raws: Sequence[bytes]) -> _Slugs:
        """Write tree objects (see :meth:`_write_object`)."""
        return [self._write_object(b"tree", raw) for raw in raws]

    def _edit_tree(self, sha: str | None, edits: Mapping[bytes, Any], hash_bytes: int,
                   out: _TreeOut) -> str | None:
        """The id of tree ``sha`` with ``edits`` applied (name -> blob id, None, or nested edits).

        New trees are appended to ``out`` (children first); an emptied subtree disappears.
        """
        raw = self._tree_raw(sha) if sha else b""
        for name, edit in edits.items():
            tree = RawTree(raw, hash_bytes)
            if isinstance(edit, dict):
                sub = tree.entry_id(name) if tree.entry_mode(name) == TREE_MODE else None
                new_sub = self._edit_tree(sub, edit, hash_bytes, out)
                raw = tree.with_entry(name, TREE_MODE, new_sub) if new_sub else tree.without_entry(name)
            elif edit is None:
                raw = tree.without_entry(name)
            else:
                if tree.entry_mode(name) == TREE_MODE:
                    raw = tree.without_entry(name)
                    tree = RawTree(raw, hash_bytes)
                raw = tree.with_entry(name, BLOB_MODE, edit)
        if not raw:
            return None
        new = object_id(b"tree", raw, hash_bytes)
        out.append((raw, new))
        return new

    def _tree_with(self, tip: str | None, changes: Mapping[str, str | None]) -> str:
        """The root tree of ``tip`` with the files at ``changes``' paths set to blobs (None: removed)."""
        if tip is None:
            hash_bytes = max(len(blob or "") for blob in changes.values()) // 2
            root_sha = None
        else:
            hash_bytes = self._hash_len(tip)
            root_sha = self._commit_tree(tip)
        edits: dict[bytes, Any] = {}
        for path, blob in changes.items():
            *dirs, leaf = path.encode("utf-8").split(b"/")
            node = edits
            for part in dirs:
                node = node.setdefault(part, {})
            node[leaf] = blob
        out: _TreeOut = []
        root = self._edit_tree(root_sha, edits, hash_bytes, out)
        if root is None:  # every article gone: the empty tree
            out.append((b"", object_id(b"tree", b"", hash_bytes)))
            root = out[-1][1]
        written = self._write_trees([raw for raw, _ in out])
        if written != [sha for _, sha in out]:
            raise StoreError("git hashed a tree differently than expected; refusing to commit")
        for raw, sha in out:
            self._remember_tree(sha, raw)
        return root

    def _commit(self, tree: str, parent: str | None, message: str, name: str, email: str) -> str:
        identity = {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
        }
        args = ["commit-tree", "-F", "-", *(["-p", parent] if parent else []), "--end-of-options", tree]
        commit = self._git(args, data=message.encode(), env=identity).decode().strip()
        self._commit_trees[commit] = tree
        return commit

    def _compare_and_swap(self, new: str, old: str | None, reason: str) -> bool:
        """Move the branch from ``old`` to ``new`` only if it still points at ``old``."""
        crash_point("before-update-ref")
        zero = "0" * len(new)
        try:
            self._git(["update-ref", "-m", reason, "--end-of-options", BRANCH, new, old or zero])
        except StoreError:
            self._lock.raise_if_locked()
            return False
        return True

    # --- internals: the collision index ------------------------------------------

    def _refuse_collision(self, slug: str, title: str | None, ignore: Sequence[str]) -> None:
        """Refuse a slug, or a title, equal to another article's after :func:`collision_key`.

        Asked for new articles, renames and changed titles only, so an ordinary
        edit pays nothing; answered by the SQLite index (two indexed queries).
        """
        other = self._index.slug_clash(collision_key(slug), ignore)
        if other is not None:
            raise InvalidSlug(f"slug {slug!r} collides with the existing article {other!r}")
        if title is not None:
            other = self._index.title_clash(collision_key(title), ignore)
            if other is not None:
                raise InvalidInput(f"title {title!r} collides with the title of the existing article {other!r}")

    def _title_key(self, blob: str, data: bytes | None = None) -> str:
        """The collision key of an article's title, from its stored text without parsing all of it.

        An article that does not parse (committed by plain git, say) has no
        title key: it must not stop other articles from being saved.
        """
        if data is None:
            data = self._object(blob)
        match = _TITLE_LINE.search(data)
        try:
            if match is None or match.group(1)[:1] in (b"|", b">", b"&", b"*", b"!"):
                title: object = self._parse(data, blob).title
            else:
                title = yaml.safe_load(match.group(1))
        except (WikicoreError, yaml.YAMLError, ValueError, RecursionError):
            return ""
        return collision_key(title if isinstance(title, str) else str(title))

    def _sync_index(self, tip: str | None) -> None:
        """Bring the collision index up to the tip's tree (under the writer lock)."""
        current = self._articles_tree_id(tip) if tip else ""
        described = self._index.described()
        if described == current:
            return
        if described and current and self._has_object(described):
            out = self._git(["diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", "--end-of-options",
                             described, current])
            fields = out.split(b"\0")
            changes: dict[str, tuple[str, str] | None] = {}
            removed: set[str] = set()
            for meta, path in zip(fields[0::2], fields[1::2], strict=False):
                if not meta.startswith(b":"):
                    continue
                slug = slug_of_path(f"{ARTICLES}/{path.decode('utf-8', 'replace')}")
                if slug is None or (path.count(b"/") == 1 and shard_of(slug) != path.split(b"/")[0].decode()):
                    continue
                _, _, _, new, status = meta.split(b" ")
                if status == b"D":
                    removed.add(slug)
                    continue
                blob = new.decode()
                known = self._index.row(slug)  # a moved file (migrate) keeps its blob: no need to read it
                changes[slug] = (blob, known[1] if known is not None and known[0] == blob else self._title_key(blob))
            for slug in removed - changes.keys():
                changes[slug] = None
            self._index.apply(changes, current)
            return
        entries = self._articles_at(tip) if tip else {}
        blobs = {blob for _, blob in entries.values()}
        keys = {sha: self._title_key(sha, data) for sha, data in self._read_many(blobs)}
        self._index.replace_all(((slug, blob, keys[blob]) for slug, (_, blob) in entries.items()), current)

    def _read_many(self, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(blob id, contents)`` for many blobs through one ``git cat-file --batch`` stream."""
        ids = sorted(set(blobs))
        if not ids:
            return
        proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.path, env=self._env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout

        def feed() -> None:
            with contextlib.suppress(OSError):
                for sha in ids:
                    stdin.write(sha.encode() + b"\n")
                stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            for sha in ids:
                header = stdout.readline().split()
                if len(header) != 3:
                    raise StoreError(f"object {sha} is missing from the wiki (run `git fsck`)")
                data = stdout.read(int(header[2]))
                stdout.read(1)
                yield sha, data
        finally:
            if proc.poll() is None:
                proc.kill()
            stdout.close()
            proc.wait()
            feeder.join()

    def _record(self, commit: str, changes: Mapping[str, tuple[str, str] | None]) -> None:
        """Tell the index what a published commit changed (a failure only costs a resync later)."""
        with contextlib.suppress(OSError, WikicoreError, sqlite3.Error):
            self._index.apply(changes, self._articles_tree_id(commit))

    # --- internals: locking and housekeeping -------------------------------------

    def _ensure_state(self) -> None:
        try:
            self._make_state()
        except OSError as error:
            raise StoreError(f"could not set up {self.state_dir}: {error.strerror or error}") from None

    def _make_state(self) -> None:
        self.state_dir.mkdir(exist_ok=True)
        exclude = self.common_dir / "info" / "exclude"
        exclude.parent.mkdir(exist_ok=True)
        lines = exclude.read_text("utf-8").splitlines() if exclude.exists() else []
        if f"/{STATE_DIR}/" not in lines:
            with exclude.open("a", encoding="utf-8") as handle:
                handle.write(f"/{STATE_DIR}/\n")

    def _raise_if_locked(self, recover: bool = False) -> None:
        self._lock.raise_if_locked(recover)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the wiki's OS writer lock; leave a crash marker while a write is in flight."""
        self._ensure_state()
        with self._lock.hold():
            yield

    def _housekeeping(self, commits: int = 1) -> None:
        """Repack when loose objects pile up, as ``git gc --auto`` would (it is off: see gitenv).

        Runs under the writer lock right after a write, so no save waits on a
        repack started by another process, and a failure (disk full) costs only
        the repack. Loose objects are estimated like git does: the entries of one
        fan-out directory x 256. Each repack, and any write of many commits at
        once (``commits``), also refreshes the commit-graph with changed-path
        Bloom filters, which is what keeps history walks fast.
        """
        objects = self.common_dir / "objects"
        try:
            loose = sum(1 for _ in (objects / "17").iterdir()) * 256
        except OSError:
            loose = 0
        if loose > GC_LOOSE_OBJECTS:
            self._repack()
            self._write_commit_graph()
        elif commits >= GRAPH_AFTER_COMMITS:
            self._write_commit_graph()

    def _repack(self) -> None:
        with contextlib.suppress(WikicoreError, OSError):
            packs = sum(1 for p in (self.common_dir / "objects" / "pack").glob("pack-*.pack"))
            self._git(["repack", "-d", "-q", *(["-a"] if packs >= GC_PACK_LIMIT else [])])
            self._git(["prune-packed", "-q"])

    def _write_commit_graph(self) -> None:
        with contextlib.suppress(WikicoreError, OSError):
            self._git(["commit-graph", "write", "--reachable", "--changed-paths", "--split", "--no-progress"])

    def maintain(self) -> None:
        """Pack loose objects and write the commit-graph now (the store also does both on its own schedule)."""
        with self._writing():
            self._repack()
            self._write_commit_graph()


# --- bulk writing ----------------------------------------------------------------


class Bulk:
    """Many articles written through one ``git fast-import`` stream, with the checks of a save.

    Obtained from :meth:`Wiki.bulk` (which holds the writer lock). It knows the
    articles at the tip from the collision index, refuses slugs and titles that
    collide with them or with each other, refuses what could not be read back,
    writes commits onto a temporary ref and publishes them by compare-and-swap.
    """

    def __init__(self, wiki: Wiki, tip: str | None) -> None:
        self.wiki = wiki
        self.tip = tip
        self.layout = wiki.layout
        self._rows = wiki._index.rows()
        self._slug_keys: dict[str, str] = {collision_key(s): s for s in self._rows}
        self._title_keys: dict[str, str] = {}
        for slug, (_, tkey) in self._rows.items():
            if tkey:
                self._title_keys.setdefault(tkey, slug)
        self.ref = f"refs/wikicore/import-{uuid.uuid4().hex[:12]}"
        self.writer = FastImport(wiki.git_dir, wiki.common_dir, wiki._env, self.ref, tip)
        self.pending: dict[str, tuple[int | None, str]] = {}
        self._written: dict[str, tuple[int | None, str]] = {}
        self._latest: dict[str, Revision] | None = None
        self._shas: dict[int, str] = {}
        self._done = False

    # what is there
    def exists(self, slug: str) -> bool:
        """Whether ``slug`` is an article at the tip the import started from."""
        return slug in self._rows

    def read(self, slug: str) -> bytes | None:
        """The stored text of ``slug`` at that tip, or None."""
        if self.tip is None or slug not in self._rows:
            return None
        return self.wiki._object(self._rows[slug][0])

    def latest_id(self, slug: str) -> str | None:
        """The last commit that changed ``slug`` before this import."""
        revision = self.latest(slug)
        return revision.id if revision else self.tip

    def latest(self, slug: str) -> Revision | None:
        """The latest revision of ``slug`` before this import (one walk for all articles, done once)."""
        if self._latest is None:
            self._latest = self.wiki.latest_revisions()
        return self._latest.get(slug)

    def from_dump(self, slug: str) -> bool:
        """Whether the article's latest revision was written by ``import-dump`` (so a dump may replace it)."""
        revision = self.latest(slug)
        if revision is None:
            return False
        return (DUMP_TRAILER in revision.message or "\nWiki-Revision: " in revision.message
                or revision.author == "wikicore import-dump")

    # checks and writes
    def claim(self, slug: str, title: str, replacing: bool = False) -> None:
        """Refuse ``slug``/``title`` if they collide with another article or another of this import.

        ``replacing``: the slug is an existing article being replaced (its own keys do not count).
        """
        skey = collision_key(slug)
        other = self._slug_keys.get(skey)
        if other is not None and other != slug:
            raise InvalidSlug(f"slug {slug!r} collides with the existing article {other!r}")
        if other == slug and not replacing:
            raise InvalidSlug(f"an article {slug!r} already exists")
        tkey = collision_key(title)
        owner = self._title_keys.get(tkey)
        if owner is not None and owner != slug:
            raise InvalidInput(f"title {title!r} collides with the title of the existing article {owner!r}")
        old = self._rows.get(slug)
        if replacing and old is not None and old[1] and self._title_keys.get(old[1]) == slug:
            del self._title_keys[old[1]]
        self._slug_keys[skey] = slug
        if tkey:
            self._title_keys[tkey] = slug

    def release(self, slug: str) -> None:
        """Forget ``slug``'s keys (it is being deleted, e.g. turned into a redirect)."""
        self._slug_keys.pop(collision_key(slug), None)
        for key, owner in list(self._title_keys.items()):
            if owner == slug:
                del self._title_keys[key]

    def blob(self, payload: bytes) -> int:
        """Write a blob (already checked by :func:`stored_bytes`); return its mark."""
        mark = self.writer.blob(payload)
        self._shas[mark] = object_id(b"blob", payload, self.wiki._hash_bytes or 20)
        return mark

    def add(self, slug: str, payload: bytes, title: str) -> int:
        """Stage ``slug`` with stored text ``payload`` for the next :meth:`commit`; return its blob mark."""
        mark = self.blob(payload)
        self.pending[slug] = (mark, collision_key(title))
        return mark

    def stage(self, slug: str, mark: int | None, title: str | None = None) -> None:
        """Stage an already written blob (None: delete the article) for the next :meth:`commit`.

        ``title`` is the article's title, for the collision index (None only for a deletion).
        """
        self.pending[slug] = (mark, collision_key(title) if title is not None else "")

    def cat_blob(self, mark: int) -> bytes:
        """Read back a blob written earlier in this import."""
        return self.writer.cat_blob(mark)

    def path(self, slug: str) -> str:
        """Where ``slug`` is written in this wiki's layout."""
        return path_of(slug, self.layout)

    def commit(self, ident: str, message: str) -> None:
        """Commit everything staged as one commit (``ident``: ``Name <mail> <epoch> <zone>``)."""
        changes: list[tuple[str, int | str | None]] = []
        for slug, (mark, _) in self.pending.items():
            target = path_of(slug, self.layout)
            old = self._rows.get(slug)
            if slug in self._rows and old is not None:
                other = path_of(slug, LAYOUT_FLAT if self.layout == LAYOUT_SHARDED else LAYOUT_SHARDED)
                if self.wiki._entry(self.tip, other) is not None:
                    changes.append((other, None))
            changes.append((target, mark))
        self.writer.commit(ident, message, changes)
        self._written.update(self.pending)
        self.pending = {}

    def finish(self, reason: str) -> str | None:
        """Publish the commits by compare-and-swap; return the new tip (None if nothing was committed)."""
        self.writer.finish()
        self._done = True
        git_ = self.wiki._git
        if not self.writer.commits:
            git_(["update-ref", "-d", "--end-of-options", self.ref], check=False)
            return None
        new = git_(["rev-parse", "--verify", "--end-of-options", self.ref]).decode().strip()
        if not self.wiki._compare_and_swap(new, self.tip, reason):
            raise StoreError(f"{BRANCH} moved during the import; the imported history is kept at {self.ref} "
                             "(merge it by hand or import again)")
        git_(["update-ref", "-d", "--end-of-options", self.ref], check=False)
        # The index learns the new state from what was written (no blob read back), and is then
        # exactly what the tree says: the slugs staged, at their last blob; the rest untouched.
        changes = {slug: (self._shas[mark], tkey) if mark is not None else None
                   for slug, (mark, tkey) in self._written.items()}
        if self.wiki._index.described() == (self.wiki._articles_tree_id(self.tip) if self.tip else ""):
            self.wiki._record(new, changes)
        else:
            self.wiki._sync_index(new)
        self.wiki._housekeeping(self.writer.commits)
        return new

    def discard(self) -> None:
        """Throw away an unfinished import (its objects become unreachable and are pruned by gc)."""
        if not self._done:
            self.writer.abort()
            self.wiki._git(["update-ref", "-d", "--end-of-options", self.ref], check=False)
            self._done = True


# --- helpers -------------------------------------------------------------------------


def _parse_record(record: bytes) -> tuple[_Commit, list[_Raw]]:
    parts = record.split(b"\0")
    sha, name, email, date, body = (p.decode("utf-8", "replace") for p in parts[:5])
    entries: list[_Raw] = []
    rest = parts[5:]
    index = 0
    while index < len(rest):
        meta = rest[index].strip(b"\n")
        index += 1
        if not meta.startswith(b":"):
            continue
        fields = meta[1:].split(b" ")
        if len(fields) < 5:
            continue
        status = fields[4].decode()
        if status[:1] in ("R", "C") and index + 1 < len(rest) + 1:
            old_path, new_path = rest[index].decode("utf-8", "replace"), rest[index + 1].decode("utf-8", "replace")
            index += 2
            entries.append(_Raw(status[0], fields[2].decode(), fields[3].decode(), new_path, old_path))
        else:
            entries.append(_Raw(status[:1], fields[2].decode(), fields[3].decode(),
                                rest[index].decode("utf-8", "replace")))
            index += 1
    return _Commit(sha, name, email, _parse_date(date), body.rstrip("\n")), entries


def _parse_date(value: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromisoformat(value)
    except ValueError:  # a date git itself could not make sense of
        return _dt.datetime.fromtimestamp(0, _dt.UTC)


def _pure_layout_moves(entries: Sequence[_Raw]) -> set[str]:
    """Paths whose change in a commit is only a move between layouts (same slug, same blob)."""
    added = {(slug_of_path(e.path), e.new): e.path for e in entries if e.status == "A"}
    deleted = {(slug_of_path(e.path), e.old): e.path for e in entries if e.status == "D"}
    moved = {path for key in added.keys() & deleted.keys() if key[0] is not None
             for path in (added[key], deleted[key])}
    for entry in entries:
        if (entry.status == "R" and entry.old == entry.new and entry.old_path is not None
                and slug_of_path(entry.old_path) == slug_of_path(entry.path) is not None):
            moved.add(entry.path)
    return moved


def _changed_slugs(entries: Sequence[_Raw]) -> set[str]:
    """Slugs whose content a commit added or changed (layout moves and deletions excluded)."""
    moved = _pure_layout_moves(entries)
    found: set[str] = set()
    for entry in entries:
        if entry.status in ("A", "M", "R", "T") and entry.path not in moved:
            slug = slug_of_path(entry.path)
            if slug is not None:
                found.add(slug)
    return found


def _with_source(error: WikicoreError, source: str) -> tuple[Any, ...]:
    """The constructor arguments of ``error`` with ``source`` named first."""
    if isinstance(error, InvalidArticle):
        return (error.problems, f"{source}: {error.source}" if error.source else source)
    return (f"{source}: {error}",)


def _check_adoptable(path: Path) -> None:
    """Refuse to adopt a repository where a checkout of ``main`` would go stale under the wiki's saves.

    Saves move ``main`` without touching any working tree; a checkout of it then
    sees every save as a change to undo, and ``git commit -a`` there reverts them
    all (issue 9). A repository without commits is made bare, like a new wiki.
    """
    env = git_env(path / ".git")
    bare = run_git(["rev-parse", "--is-bare-repository"], env, cwd=path, check=False).decode().strip()
    if bare == "true":
        return
    has_commits = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], env, cwd=path, check=False).strip()
    listing = run_git(["worktree", "list", "--porcelain"], env, cwd=path, check=False).decode("utf-8", "replace")
    checked_out = f"branch {BRANCH}" in listing.splitlines()
    tracked = run_git(["ls-files", "-z"], env, cwd=path, check=False)
    if not has_commits and not tracked and not run_git(["rev-parse", "--verify", "--quiet", BRANCH], env, cwd=path,
                                                       check=False).strip():
        run_git(["config", "core.bare", "true"], env, cwd=path)
        return
    if checked_out:
        raise InvalidInput(
            f"{path} has a checkout of {BRANCH.removeprefix('refs/heads/')}: a wiki's saves move that branch without "
            "updating checkouts, so `git commit -a` there would revert them. Make a bare clone the wiki instead: "
            f"git clone --bare {path} {path}-wiki/.git && wikicore --wiki {path}-wiki init"
        )
