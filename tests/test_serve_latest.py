"""The table of latest revisions follows the tip across saves instead of being thrown away.

After a save, only the articles the new commits touched can have a new latest
revision (:meth:`Wiki.changed_since`); the server keeps answering every other
article from its table and asks git once about each touched one. A rewritten
history or a commit touching everything (``migrate``) starts a full rebuild.
Git decides throughout: these tests check the served revision against git's,
and count the calls that reach git (``Wiki.latest``, full walks, and in a real
server every git process it starts).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wikicore.errors import InvalidRevision, NotFound
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Wiki, path_of

from .support.serve_helpers import serving
from .support.wiki_helpers import article, git, tip
from .test_serve_reads import TABLE_GUARD, save_elsewhere, warm

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from wikicore.serve.config import ServeConfig
from wikicore.serve.service import CHANGED_LIMIT, Service

SLUGS = ("tea", "coffee", "cocoa", "mate")
#: Wiki.latest as git answers it, for the expected values: the counters below count the service's calls only.
_GIT_LATEST = Wiki.latest


def make_wiki(root: Path, layout: int = LAYOUT_SHARDED) -> Path:
    with Wiki.init(root) as wiki:
        if layout == LAYOUT_FLAT:
            (wiki.state_dir / "layout").unlink()  # a wiki as made before the sharded layout
    with Wiki.open(root) as wiki:
        assert wiki.layout == layout
        for slug in SLUGS:
            wiki.save(article(slug), f"Create {slug}")
    return root


def delete_with_git(root: Path, path: str) -> str:
    """Remove ``path`` from the branch in one commit made with plain git (the store has no delete)."""
    index = root / "delete.index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_INDEX_FILE=str(index), GIT_DIR=str(root / ".git"))

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], env=env, check=True, capture_output=True, text=True).stdout.strip()

    run("read-tree", "refs/heads/main")
    run("rm", "--cached", "--quiet", "--", path)
    tree = run("write-tree")
    commit = run("-c", "user.name=Git", "-c", "user.email=git@example.org", "commit-tree", tree,
                 "-p", "refs/heads/main", "-m", f"delete {path}")
    run("update-ref", "refs/heads/main", commit)
    index.unlink()
    return commit


def rewrite_history(root: Path) -> str:
    """Replace the branch by one root commit of the same tree: the old tip is no ancestor of the new."""
    tree = git(root, "rev-parse", "refs/heads/main^{tree}").strip()
    commit = git(root, "-c", "user.name=Git", "-c", "user.email=git@example.org", "commit-tree", tree,
                 "-m", "squashed").strip()
    git(root, "update-ref", "refs/heads/main", commit)
    return commit


# --- the store: Wiki.changed_since ---------------------------------------------------


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_changed_since_names_every_article_a_commit_touched(tmp_path: Path, layout: int) -> None:
    root = make_wiki(tmp_path / "wiki", layout)
    with Wiki.open(root) as wiki:
        start = wiki.tip()
        assert start is not None and wiki.changed_since(start) == set()
        tea = wiki.latest("tea")
        assert tea is not None
        edited = wiki.save(article("tea", title="Green tea"), "edit", base=tea.id)
        wiki.save(article("tea", title="Tea"), "and back", base=edited.id)  # the trees agree again
        wiki.rename("coffee", "espresso")
        wiki.save(article("chai"), "Create chai")
        delete_with_git(root, path_of("cocoa", layout))
        # Both names of the rename, the edit undone (its latest revision moved), a creation, a deletion.
        assert wiki.changed_since(start) == {"tea", "coffee", "espresso", "chai", "cocoa"}
        assert wiki.changed_since(start, edited.id) == {"tea"}
        assert wiki.changed_since(start, limit=4) is None  # five files touched: cannot say within the limit
        assert wiki.changed_since(wiki.tip() or "") == set()


def test_changed_since_cannot_say_across_rewritten_history_or_a_migration(tmp_path: Path) -> None:
    root = make_wiki(tmp_path / "wiki", LAYOUT_FLAT)
    with Wiki.open(root) as wiki:
        start = wiki.tip()
        assert start is not None
        wiki.migrate()  # every article moves: every one is touched
        assert wiki.changed_since(start) == set(SLUGS)
        assert wiki.changed_since(start, limit=len(SLUGS) * 2 - 1) is None  # each move is two paths
        squashed = rewrite_history(root)
        assert wiki.tip() == squashed
        assert wiki.changed_since(start) is None
        assert wiki.changed_since("0" * 40) is None  # an id no commit has: cannot say
        for bad in ("HEAD~1", "--output=/tmp/x", start[:12], start.upper(), f"{start}\n"):
            with pytest.raises(InvalidRevision):
                wiki.changed_since(bad)


def test_latest_at_a_commit_is_the_latest_revision_there(tmp_path: Path) -> None:
    root = make_wiki(tmp_path / "wiki")
    with Wiki.open(root) as wiki:
        before = wiki.latest("tea")
        old_tip = wiki.tip()
        assert before is not None and old_tip is not None
        after = wiki.save(article("tea", title="Later"), "edit", base=before.id)
        assert wiki.latest("tea", at=old_tip) == before and wiki.latest("tea") == after
        with pytest.raises(InvalidRevision):
            wiki.latest("tea", at="HEAD")


# --- the service: what reaches git after a save ------------------------------------------


Calls = dict[str, int]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count the store's calls that ask git for latest revisions (each still runs: a counter, not a stand-in)."""
    counted: Calls = {"latest": 0, "latest_revisions": 0, "changed_since": 0}

    def counting(name: str) -> Callable[..., Any]:
        real = getattr(Wiki, name)

        def call(self: Wiki, *args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return real(self, *args, **kwargs)

        return call

    for name in counted:
        monkeypatch.setattr(Wiki, name, counting(name))
    return counted


def started(root: Path) -> Service:
    service = Service(ServeConfig(root).check())
    for slug in SLUGS:
        warm(service, slug)
    return service


def git_latest(root: Path, slug: str) -> str | None:
    with Wiki.open(root) as wiki:
        found = _GIT_LATEST(wiki, slug)
        return found.id if found is not None else None


def test_after_a_save_other_articles_are_answered_from_the_table(tmp_path: Path, calls: Calls) -> None:
    root = make_wiki(tmp_path / "wiki")
    service = started(root)
    try:
        coffee = service.body("coffee")
        calls.update(latest=0, latest_revisions=0, changed_since=0)
        new = save_elsewhere(root, "tea", "Tea again")
        assert service.body("coffee") == coffee
        assert service.body("cocoa").revision == git_latest(root, "cocoa")
        assert calls == {"latest": 0, "latest_revisions": 0, "changed_since": 1}  # one question for the save
        assert service.cached_body("mate") is not None  # kept its entry: answered on the event loop
        assert service.cached_body("tea") is None  # touched: never its revision before the save
        assert service.body("tea").revision == new and calls["latest"] == 1
        assert service.body("tea").revision == new and calls["latest"] == 1  # asked once, then known
        assert service.cached_body("tea") == service.body("tea")
        rows, _ = service.listing("", 10, None)
        assert {slug: rev.id for slug, _, rev in rows if rev is not None} == {s: git_latest(root, s) for s in SLUGS}
        assert calls["latest_revisions"] == 0
    finally:
        service.close()


def test_a_rename_and_a_delete_between_two_reads(tmp_path: Path, calls: Calls) -> None:
    root = make_wiki(tmp_path / "wiki")
    service = started(root)
    try:
        calls.update(latest=0, latest_revisions=0, changed_since=0)
        with Wiki.open(root) as wiki:
            renamed = wiki.rename("tea", "green-tea")
        delete_with_git(root, path_of("coffee", LAYOUT_SHARDED))
        assert service.body("green-tea").revision == renamed.id
        for gone in ("tea", "coffee"):
            assert service.cached_body(gone) is None
            with pytest.raises(NotFound):
                service.body(gone)
        assert service.body("cocoa").revision == git_latest(root, "cocoa")
        # Both commits in one question; git asked about the three touched names only, each once.
        assert calls == {"latest": 3, "latest_revisions": 0, "changed_since": 1}
        with pytest.raises(NotFound):
            service.body("coffee")
        assert calls["latest"] == 3
    finally:
        service.close()


def wait_for_table(service: Service, slug: str) -> None:
    started_at = time.monotonic()
    while service.cached_body(slug) is None:
        assert time.monotonic() - started_at < TABLE_GUARD, "the table of latest revisions was never rebuilt"
        time.sleep(0.01)
        service.body(slug)


def test_rewritten_history_rebuilds_the_table(tmp_path: Path, calls: Calls) -> None:
    root = make_wiki(tmp_path / "wiki")
    service = started(root)
    try:
        old = service.body("coffee")
        calls.update(latest=0, latest_revisions=0, changed_since=0)
        squashed = rewrite_history(root)
        assert service.body("coffee").revision == squashed != old.revision
        assert calls["changed_since"] == 1 and calls["latest"] >= 1  # could not say: git answered the read
        wait_for_table(service, "cocoa")
        assert calls["latest_revisions"] == 1 and service.body("cocoa").revision == squashed
    finally:
        service.close()


def test_a_migration_over_the_limit_rebuilds_the_table(tmp_path: Path, calls: Calls) -> None:
    root = make_wiki(tmp_path / "wiki", LAYOUT_FLAT)
    with Wiki.open(root) as wiki:
        wiki.import_articles([article(f"bulk-{n}") for n in range(CHANGED_LIMIT)], "Bulk")
    service = started(root)
    try:
        before = {slug: service.body(slug).revision for slug in SLUGS}
        calls.update(latest=0, latest_revisions=0, changed_since=0)
        with Wiki.open(root) as wiki:
            wiki.migrate()
        assert {slug: service.body(slug).revision for slug in SLUGS} == before  # a move is no revision
        assert calls["changed_since"] == 1
        wait_for_table(service, "tea")
        assert calls["latest_revisions"] == 1
        assert service.body("bulk-7").revision == git_latest(root, "bulk-7")
    finally:
        service.close()


# --- a real server: the git processes a read after another process's save starts ------------------


@pytest.fixture
def git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``git`` first on PATH that writes each of its command lines to a file, then runs the real git."""
    real = shutil.which("git")
    assert real is not None
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    logged = tmp_path / "git.log"
    logged.touch()
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{logged}"\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    yield logged


def test_a_server_answers_other_articles_without_git_after_a_save(tmp_path: Path, git_log: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_wiki(tmp_path / "wiki")
    with serving(root, log_dir=tmp_path) as server, server.client() as http:
        monkeypatch.undo()  # only the server runs the counting git; the saves below use the real one
        revisions = {slug: http.get(f"/api/v1/articles/{slug}").json()["revision"] for slug in SLUGS}
        started_at = time.monotonic()
        while True:  # until a round of reads starts no git at all: the table is built and the bodies kept
            seen = git_log.stat().st_size
            assert all(http.get(f"/api/v1/articles/{slug}").status_code == 200 for slug in SLUGS)
            if git_log.stat().st_size == seen:
                break
            assert time.monotonic() - started_at < TABLE_GUARD, "the table of latest revisions was never built"
            time.sleep(0.05)
        for n in range(3):
            seen = git_log.stat().st_size
            new = save_elsewhere(root, "tea", f"Served {n}")
            for slug in ("coffee", "cocoa", "mate"):
                answer = http.get(f"/api/v1/articles/{slug}")
                assert answer.status_code == 200 and answer.json()["revision"] == revisions[slug]
            fresh = http.get("/api/v1/articles/tea")
            assert fresh.status_code == 200 and fresh.json()["revision"] == new == tip(root)
            started_since = git_log.read_text()[seen:].splitlines()
            # No read of another article asked git about it, and no walk of all history was started.
            assert not [line for line in started_since if "coffee" in line or "cocoa" in line or "mate" in line]
            assert not [line for line in started_since if line.endswith("-- articles") and "--raw" in line]
            assert any("tea.yaml" in line for line in started_since)  # the saved article: asked once


def test_recent_changes_are_computed_once_however_many_ask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up at start and first readers share one computation, and later readers find it."""
    import threading

    import wikicore.serve.service as service_module

    root = make_wiki(tmp_path / "wiki")
    calls: list[int] = []
    computing = threading.Event()
    release = threading.Event()
    real = service_module.recent_changes

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        computing.set()
        release.wait(30)  # the others ask while this one is still computing
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "recent_changes", counted)
    service = Service(ServeConfig(root).check())
    try:
        service.warm()
        assert computing.wait(30)
        answers: list[Any] = []
        readers = [threading.Thread(target=lambda: answers.append(service.changes(50, None))) for _ in range(3)]
        for reader in readers:
            reader.start()
        release.set()
        for reader in readers:
            reader.join(30)
        assert len(answers) == 3 and all(a == answers[0] for a in answers)
        assert [c.slug for c in answers[0]] == list(reversed(SLUGS))
        assert service.changes(50, None) == answers[0]
        assert calls == [1]
    finally:
        release.set()
        service.close()
