"""The git-backed wiki: every save is one commit on ``refs/heads/main``.

Layout: a git repository whose branch ``main`` holds the articles, each file
exactly :func:`wikicore.serialize.dumps` of its article, at
``articles/<hh>/<slug>.yaml`` (layout 2, sharded by a hash of the slug; see
:mod:`wikicore.store.tree`) or, in wikis made before it, ``articles/<slug>.yaml``
(layout 1; ``wikicore migrate`` moves them). Local state (the writer lock, the
crash marker, the layout marker, the collision index, audit's ``checks.sqlite``)
lives in ``.wikicore/`` next to ``.git`` and is listed in ``.git/info/exclude``.

Why it is built the way it is (each choice won against a measured alternative,
GitPython's usual patterns among them; ``bench/bench_store.py`` repeats the
measurements):

* **No lost edits.** A save names the revision it was edited from (``base``);
  if the article's content at the tip differs from its content at ``base`` the
  save raises :class:`~wikicore.errors.EditConflict` with both revisions. The
  branch moves only by compare-and-swap (:mod:`.branch`), never by
  ``index.commit()``/``head.set_commit()``, which overwrite blindly. Writers
  are serialised by an OS file lock (:mod:`.lock`, released by the kernel if a
  writer dies), and a swap that still loses (a foreign ``git`` wrote) is
  retried on the new tip.
* **Crash safety.** A save writes objects first (blob, trees, commit: all
  unreachable until the last step) and publishes them by one atomic ref update,
  so ``kill -9`` at any step leaves the branch at the old or the new commit.
  ``WIKICORE_CRASH_AT=<step>`` kills the process at a named step for the tests
  (:data:`CRASH_STEPS`).
* **Speed.** Trees are edited as raw bytes and objects written in-process
  (:mod:`.objects`, no index to rewrite); with the sharded layout a save
  rewrites three small trees whatever the wiki's size. Contents are read
  through persistent ``cat-file --batch`` pipes of our own (:mod:`.catfile`); history is one ``git log``
  per name the article had (:mod:`.history`), which the commit-graph's
  changed-path Bloom filters (:mod:`.upkeep`) make fast; the slug/title
  collision check asks an SQLite index (:mod:`.collisions`).
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

This module is the facade: :class:`Wiki` opens a wiki and answers its
questions by asking its parts (``objects``, ``branch``, ``collisions``,
``upkeep`` and a private :class:`~.history.History`), each in a module of its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EditConflict, InvalidInput, InvalidSlug, NotFound, StoreError
from ..models import Article
from ..revision import Revision
from .adopt import check_adoptable
from .branch import BRANCH, Branch, counts_back, parse_revision
from .bulk import DUMP_TRAILER, Bulk, ImportResult, bulk_import
from .collisions import Collisions
from .gitenv import CRASH_STEPS, GitRunner, crash_point, git_env, run_git
from .history import History
from .index import CollisionIndex, collision_key
from .lock import WriterLock
from .objects import ObjectStore
from .tree import path_of
from .upkeep import Upkeep
from .validate import DEFAULT_AUTHOR, check_message, parse_article, parse_author, stored_bytes, validate_slug

if TYPE_CHECKING:
    import datetime as _dt

    from ..blame import Blame
    from ..diff import ArticleDiff
    from .history import Change as LogChange

__all__ = [
    "BRANCH",
    "CRASH_STEPS",
    "DEFAULT_AUTHOR",
    "DUMP_TRAILER",
    "STATE_DIR",
    "Bulk",
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

#: Directory of local, uncommitted state (lock, crash marker, layout, indexes, audit cache).
STATE_DIR = ".wikicore"

# `Wiki.list` shadows the builtin inside the class body; these aliases keep annotations readable.
_Slugs = list[str]
_Revisions = list[Revision]
_Logged = list[tuple[Revision, str]]
_Latest = list[tuple[Article, Revision | None]]


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


class Wiki:
    """A wiki on disk. Open one with :meth:`open` or create one with :meth:`init`.

    A ``Wiki`` keeps persistent ``git cat-file`` processes; :meth:`close` (or
    ``with Wiki.open(...) as wiki``) ends them.

    **Safe across threads and after ``fork()``.** Each thread of each process
    gets its own ``cat-file`` pipes and its own connection to the collision
    index, started the first time it reads, and an answer about another object
    than the one asked for is refused (:class:`StoreError`), never used. A
    child after ``fork()`` reads through pipes of its own, not its parent's.
    Writers in any number of threads and processes are safe; they serialise on
    the lock in ``.wikicore/``.

    Its parts, which :class:`Bulk` works with too: ``objects`` (:mod:`.objects`),
    ``branch`` (:mod:`.branch`), ``collisions`` (:mod:`.collisions`) and
    ``upkeep`` (:mod:`.upkeep`).
    """

    def __init__(self, path: Path, git_dir: Path, common_dir: Path) -> None:
        self.path = path
        self.git_dir = git_dir
        # Refs, locks and info/exclude live in the common dir (they differ in a linked worktree).
        self.common_dir = common_dir
        self.state_dir = path / STATE_DIR
        runner = GitRunner(path, self.git_dir, self.common_dir)
        self._lock = WriterLock(self.state_dir, self.common_dir,
                                [self.common_dir / f"{BRANCH}.lock", self.common_dir / "packed-refs.lock"])
        self.objects = ObjectStore(runner)
        self._history = History(runner, self.objects, self.state_dir)
        self.branch = Branch(runner, self.objects, self._lock)
        self.collisions = Collisions(CollisionIndex(self.state_dir / "index.sqlite"), runner, self.objects)
        self.upkeep = Upkeep(runner, self.objects, self.branch, self.collisions, self.state_dir, self._history)
        self.upkeep.check_commit_graph()
        if self.upkeep.migration_interrupted():
            with self.writing():
                self.upkeep.finish_migration()

    # --- opening -------------------------------------------------------------

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, adopt: bool = False) -> Wiki:
        """Create a wiki at ``path``; with ``adopt``, make the git repository already there one, if that is safe.

        Adoption is never implied: ``--wiki`` defaults to the current directory,
        often a code repository. A repository is adopted only when no
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
            check_adoptable(path)
        try:
            (path / STATE_DIR).mkdir(exist_ok=True)  # the mark that makes it a wiki (see open)
        except OSError as error:
            raise InvalidInput(f"cannot create a wiki at {path}: {error.strerror or error}") from None
        wiki = cls.open(path)
        wiki._ensure_state()
        wiki.upkeep.choose_layout()
        return wiki

    @staticmethod
    def is_wiki(path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is a wiki already (a git repository that :meth:`init` made or adopted)."""
        path = Path(path).absolute()
        return (path / ".git").exists() and (path / STATE_DIR).is_dir()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Wiki:
        """Open the wiki at ``path``; raise :class:`NotFound` if there is no git repository there."""
        path = Path(path)
        if not path.is_dir():
            raise NotFound(f"no wiki at {path}: no such directory (create one with `wikicore init`)")
        if not (path / ".git").exists():
            raise NotFound(f"no wiki at {path}: not a git repository (create one with `wikicore init`)")
        # One git process says where the repository is (``.git`` may be a file naming it, in a
        # linked worktree) and its object format. ``--git-dir`` pins it to this ``.git``: git must
        # never look further up, into whatever repository the directory happens to sit in.
        root = path.resolve()
        found = run_git(["--git-dir", str(root / ".git"), "rev-parse", "--git-dir", "--git-common-dir",
                         "--show-object-format"], git_env(None), cwd=root, check=False).decode("utf-8", "replace")
        lines = found.splitlines()
        if len(lines) != 3:
            raise NotFound(f"no wiki at {path}: not a git repository (create one with `wikicore init`)")
        if not (path / STATE_DIR).is_dir():
            # --wiki defaults to the current directory: never commit into a code repository
            # (or any repository) that nobody made a wiki on purpose.
            raise NotFound(f"{path} is a git repository but not a wiki (`wikicore init --adopt` there makes it one)")
        # The tree code and the id checks know 40-digit ids only; refuse rather than fail mid-save.
        object_format = lines[2].strip()
        if object_format.lower() != "sha1":
            raise StoreError(f"{path} uses {object_format} object ids; wikicore supports SHA-1 repositories only")
        git_dir, common_dir = (Path(os.path.abspath(root / line)) for line in lines[:2])
        return cls(root, git_dir, common_dir)

    @property
    def notes(self) -> list[str]:
        """What opening and using the wiki repaired on the way, one line each, naming the file.

        A damaged collision index rebuilt, a commit-graph bypassed because it does
        not verify: nothing the caller must act on, but worth saying once.
        """
        return [*self.upkeep.notes, *self.collisions.notes]

    def close(self) -> None:
        """End the persistent git processes and the index connection."""
        self.collisions.close()
        self.objects.close()

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
        return self.upkeep.layout

    def _ensure_state(self) -> None:
        try:
            self.state_dir.mkdir(exist_ok=True)
            exclude = self.common_dir / "info" / "exclude"
            exclude.parent.mkdir(exist_ok=True)
            lines = exclude.read_text("utf-8").splitlines() if exclude.exists() else []
            if f"/{STATE_DIR}/" not in lines:
                with exclude.open("a", encoding="utf-8") as handle:
                    handle.write(f"/{STATE_DIR}/\n")
        except OSError as error:
            raise StoreError(f"could not set up {self.state_dir}: {error.strerror or error}") from None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the wiki's OS writer lock (a bulk import takes it to publish); leave a crash marker meanwhile."""
        self._ensure_state()
        with self._lock.hold():
            yield

    # --- reading -------------------------------------------------------------

    def tip(self) -> str | None:
        """The commit the branch points at, or None for a wiki without revisions."""
        return self.branch.tip()

    def resolve(self, rev: str) -> str:
        """The full commit id of a user's revision (see :func:`parse_revision` for what is accepted).

        ``latest~N`` needs an article to count revisions of: use :meth:`resolve_for`.
        """
        return self.branch.resolve(rev)

    def resolve_for(self, slug: str, rev: str) -> str:
        """The commit id of ``rev`` for article ``slug``: as :meth:`resolve`, and ``~N`` counts its own revisions.

        ``latest`` (or ``~0``) is the article's latest revision, ``latest~1``
        (or ``~1``) the one before, following renames (the revisions
        :meth:`history` lists, newest first).
        """
        back = counts_back(parse_revision(rev))
        if back is None:
            return self.resolve(rev)
        revisions = self.history(slug)
        if back >= len(revisions):
            count = len(revisions)
            plural = "s" if count != 1 else ""
            raise NotFound(f"article {slug!r} has {count} revision{plural}: {rev} is before its first")
        return revisions[back].id

    def list(self) -> _Slugs:
        """Slugs of every article at the tip, sorted."""
        tip = self.tip()
        if tip is None:
            return []
        return self.objects.slugs_at(tip)

    def latest_all(self) -> _Latest:
        """Every article at the tip with the last revision that changed it (as :meth:`latest`), by slug.

        For wiki-wide work such as ``audit --all``: the tip's tree is read once,
        every blob read through one ``cat-file --batch`` stream and parsed once,
        and one ``git log`` walk finds every article's last change
        (:meth:`latest_revisions`). Calling :meth:`load` and :meth:`latest` per
        article walked history once per article, which made ``audit --all``
        quadratic. None where the walk cannot see the change (a
        shallow clone), as :meth:`latest` would say.
        """
        tip = self.tip()
        if tip is None:
            return []
        entries = sorted(self.objects.articles_at(tip).items())
        revisions = self.latest_revisions()
        articles = self.objects.load_many([(blob, f"{tip[:12]}:{path}") for _, (path, blob) in entries])
        return [(article, revisions.get(slug)) for (slug, _), article in zip(entries, articles, strict=True)]

    def latest_revisions(self) -> dict[str, Revision]:
        """The latest revision of every article at the tip, by slug, from one walk of history.

        What ``latest`` gives one article at a time, in one ``git log`` that
        stops as soon as every article has been seen. Layout migrations, which
        move a file without changing it, are not revisions of the article.
        """
        tip = self.tip()
        if tip is None:
            return {}
        wanted = {slug: path for slug, (path, _) in self.objects.articles_at(tip).items()}
        return self._history.latest_of(tip, wanted)

    def load_text(self, slug: str, rev: str | None = None) -> str:
        """The stored text of an article, exactly as committed, at ``rev`` (default: latest)."""
        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        return self.objects.read(commit, self._path_at(slug, commit)).decode("utf-8")

    def load(self, slug: str, rev: str | None = None) -> Article:
        """The article ``slug`` at ``rev`` (default: latest), validated."""
        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        path = self._path_at(slug, commit)
        return parse_article(self.objects.read(commit, path), f"{commit[:12]}:{path}")

    def latest(self, slug: str, at: str | None = None) -> Revision | None:
        """The last revision that changed ``slug`` (under its current name) as of commit ``at`` (the tip), or None."""
        slug = validate_slug(slug)
        tip = self.tip() if at is None else self.branch.commit_id(at)
        if tip is None:
            return None
        here = self._locate(tip, slug)
        if here is None:
            return None
        for revision, _ in self._history.iter_log(tip, here[0], count=1):
            return replace(revision, path=here[0])
        return None

    def changed_since(self, old: str, new: str | None = None, limit: int = 256) -> set[str] | None:
        """The articles some commit after ``old`` up to ``new`` (the tip) touched; None: cannot say, start over.

        An article no commit in between touched has the same latest revision at both,
        so a reader's table of latest revisions (``wikicore serve``) drops only these
        after a save instead of walking all history again. Both names of a rename count.
        None when ``old`` is not an ancestor of ``new`` or more than ``limit`` files were
        touched (a ``migrate``, a bulk import): see :meth:`History.touched_since`.
        """
        old, new = self.branch.commit_id(old), self.branch.commit_id(new) if new is not None else self.tip()
        return None if new is None else self._history.touched_since(old, new, limit)

    def history(self, slug: str) -> _Revisions:
        """Every revision of ``slug``, newest first, following renames."""
        return [revision for revision, _ in self.log_blobs(slug)]

    def log(self, limit: int, since: _dt.datetime | None = None) -> Sequence[LogChange]:
        """The ``limit`` newest article changes across the wiki (after ``since``), newest first.

        Each is a revision as :meth:`history` lists it (under the article's current slug, with the
        article's revision before, None for a creation); articles deleted since are left out. The
        walk stops after ``limit`` changes, so it costs the same in a wiki of any size.
        """
        tip = self.tip()
        if tip is None:
            return []
        return self._history.wiki_log(tip, limit, since)

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
            return self._history.log(tip, here[0])
        commit = self.resolve_for(slug, rev)
        return self._history.log(commit, self._path_at(slug, commit))

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
            new = parse_article(self.objects.read(new_rev.id, new_rev.path), new_rev.path)
            old = parse_article(self.objects.read(old_rev.id, old_rev.path), old_rev.path) if old_rev else None
            return diff_articles(old, new, old_revision=old_rev.id if old_rev else None, new_revision=new_rev.id)
        new_commit = self.resolve_for(slug, b) if b is not None else tip
        old_commit = self.resolve_for(slug, a) if a is not None else tip
        old = parse_article(self.objects.read(old_commit, path := self._path_at(slug, old_commit)), path)
        new = parse_article(self.objects.read(new_commit, path := self._path_at(slug, new_commit)), path)
        return diff_articles(old, new, old_revision=old_commit, new_revision=new_commit)

    def blame(self, slug: str, rev: str | None = None) -> Blame:
        """Who introduced each claim and citation of ``slug`` as of ``rev`` (default: latest)."""
        from ..blame import blame_blobs  # blame builds on the store, not the other way round

        slug = validate_slug(slug)
        commit = self._commit_for(rev, slug)
        path = self._path_at(slug, commit)
        revisions = self._history.log(commit, path)[::-1]  # the log carries blob ids

        def load(items: Sequence[tuple[str, Revision]]) -> Iterator[Article]:
            return self.objects.load_many([(blob, f"{r.short}:{r.path}") for blob, r in items])

        return blame_blobs(slug, revisions, load, cache_dir=self.cache_path)

    def _locate(self, commit: str | None, slug: str) -> tuple[str, str] | None:
        """``(path, blob id)`` of ``slug`` at ``commit`` in either layout (this wiki's first), or None."""
        return self.objects.locate(commit, slug, self.layout)

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
            path = self._history.path_at(commit, tip, now[0])
            if path is not None:
                return path
        raise NotFound(f"no article {slug!r} at revision {commit[:12]}")

    # --- the collision index ---------------------------------------------------

    def check_index(self) -> _Slugs:
        """Differences between the collision index and the tip's tree it claims to describe (empty: sound)."""
        return self.collisions.check(self.tip())

    def rebuild_index(self) -> int:
        """Rebuild the collision index from the tip's tree, under the writer lock; return the articles indexed."""
        with self.writing():
            return self.collisions.rebuild(self.tip())

    # --- writing -------------------------------------------------------------

    def save(
        self, article: Article, message: str, author: str | None = None, base: str | None = None, *,
        merge: bool = False,
    ) -> Revision:
        """Commit ``article``; return the new revision.

        ``base`` is the revision the article was edited from. ``base=None`` means
        "this is a new article": if one with the slug exists, that is an edit
        conflict, never an overwrite. Otherwise the article's content at ``base``
        must equal its content at the tip, or :class:`EditConflict` names both
        revisions. A save that changes nothing makes no commit and returns the
        latest revision as :class:`Unchanged`. Saves of different articles never conflict.

        ``merge=True``: when the article changed since ``base``, the other edit and
        this one are merged claim by claim (:func:`wikicore.merge.save_merging`) and
        the result is saved; only items both edits changed are a conflict
        (:class:`~wikicore.merge.MergeConflict`, an :class:`EditConflict`).
        """
        if merge and base is not None:
            from ..merge import save_merging  # the merge builds on the store, not the other way round

            return save_merging(self, article, base, message, author).revision
        if not isinstance(article, Article):
            raise InvalidInput("save() takes an Article")
        slug = validate_slug(article.slug)
        message_text = check_message(message)
        name, email = parse_author(author)
        base_commit = self.resolve_for(slug, base) if base is not None else None
        payload = stored_bytes(article)
        if self.objects.hash_bytes is None and (tip := self.tip()) is not None:
            self.objects.hash_len(tip)
        blob = self.objects.write_object(b"blob", payload)
        crash_point("after-hash-object")
        title_key = collision_key(article.title)
        with self.writing():
            path = path_of(slug, self.layout)
            expected = self._locate(base_commit, slug) if base_commit else None

            def build(tip: str | None) -> str | None:
                here = self._locate(tip, slug)
                if (here and here[1]) != (expected and expected[1]):
                    latest = self.latest(slug)
                    raise EditConflict(slug, base_commit, latest.id if latest else tip)
                if here is not None and here[1] == blob:
                    return None  # stored exactly so already: no commit
                self.collisions.sync(tip)
                if here is None or not self.collisions.keeps_title(slug, here[1], title_key):
                    self.collisions.refuse(slug, article.title, ignore=(slug,))
                changes: dict[str, str | None] = {path: blob}
                if here is not None and here[0] != path:
                    changes[here[0]] = None  # left in the other layout: move it
                tree = self.objects.tree_with(tip, changes)
                crash_point("after-mktree")
                commit = self.objects.commit(tree, tip, message_text, name, email)
                crash_point("after-commit-tree")
                return commit

            commit = self.branch.publish(build, f"wikicore: save {slug}",
                                         gave_up=f"could not save {slug!r}: the branch kept moving under us")
            if commit is None:
                latest = self.latest(slug)
                assert latest is not None
                return Unchanged(**{f: getattr(latest, f) for f in Revision.__dataclass_fields__})
            crash_point("after-update-ref")
            self.collisions.record(commit, {slug: (blob, title_key)})
            self.upkeep.housekeeping()
            return self.objects.revision(commit, path)

    def rename(self, old: str, new: str, message: str | None = None, author: str | None = None) -> Revision:
        """Rename an article (its file and its ``slug`` field) in one commit; history follows it."""
        old, new = validate_slug(old), validate_slug(new)
        if old == new:
            raise InvalidInput(f"cannot rename {old!r} to itself")
        message_text = check_message(message or f"Rename {old} to {new}")
        name, email = parse_author(author)
        with self.writing():
            path = path_of(new, self.layout)
            indexed: dict[str, tuple[str, str] | None] = {}  # what the collision index learns once published

            def build(tip: str | None) -> str:
                here = self._locate(tip, old)
                if tip is None or here is None:
                    raise NotFound(f"no article {old!r} in the wiki")
                if self._locate(tip, new) is not None:
                    raise InvalidSlug(f"an article {new!r} already exists")
                self.collisions.sync(tip)
                article = parse_article(self.objects.read(tip, here[0]), here[0])
                self.collisions.refuse(new, None, ignore=(old, new))
                moved = article.model_copy(update={"slug": new})  # `new` passed check_slug above
                blob_id = self.objects.write_object(b"blob", stored_bytes(moved))
                tree = self.objects.tree_with(tip, {path: blob_id, here[0]: None})
                indexed.update({old: None, new: (blob_id, collision_key(article.title))})
                return self.objects.commit(tree, tip, message_text, name, email)

            commit = self.branch.publish(build, f"wikicore: rename {old} {new}",
                                         gave_up=f"could not rename {old!r}: the branch kept moving under us")
            assert commit is not None
            self.collisions.record(commit, indexed)
            self.upkeep.housekeeping()
            return self.objects.revision(commit, path)

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
        return bulk_import(self, articles, message, author, sources)

    @contextlib.contextmanager
    def bulk(self, *, locked: bool = True) -> Iterator[Bulk]:
        """A :class:`Bulk` writer (for bulk import and ``import-dump``).

        The caller adds articles and commits; :meth:`Bulk.finish` publishes by
        compare-and-swap. Leaving the block without ``finish`` (or by an
        exception) discards everything written. With ``locked`` the writer
        lock is held throughout; without, only while the import starts and
        while :meth:`Bulk.finish` publishes, so other writers wait seconds, not
        the whole import (what they changed meanwhile is kept, see
        :meth:`Bulk.finish`).
        """
        if locked:
            with self.writing():
                tip = self.tip()
                self.collisions.sync(tip)
                writer = Bulk(self, tip)
                try:
                    yield writer
                finally:
                    writer.discard()
            return
        with self.writing():
            tip = self.tip()
            self.collisions.sync(tip)
            writer = Bulk(self, tip, locked=False)
        with self._lock.working():
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
        with self.writing():
            return self.upkeep.migrate(name, email)

    def maintain(self) -> None:
        """Pack loose objects and write the commit-graph now (the store also does both on its own schedule)."""
        with self.writing():
            self.upkeep.repack()
            self.upkeep.write_commit_graph()
