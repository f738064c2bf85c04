"""The store at scale: sharded layout and its migration, the collision index, bulk import,
``~N`` revisions, one-walk latest revisions, write caps and housekeeping (wikis of 100k articles)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import EditConflict, InvalidArticle, InvalidInput, InvalidRevision, InvalidSlug, NotFound
from wikicore.models import Article
from wikicore.serialize import MAX_BYTES, dumps, loads
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Unchanged, Wiki, path_of, shard_of
from wikicore.store import upkeep as upkeep_module

from .support.wiki_helpers import article, fsck_clean, git, with_claims


@pytest.fixture
def wiki(tmp_path: Path) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    yield w
    w.close()


def flat_wiki(path: Path) -> Wiki:
    """A wiki as made before the sharded layout: no layout marker, articles/<slug>.yaml."""
    w = Wiki.init(path)
    (w.state_dir / "layout").unlink()
    assert w.layout == LAYOUT_FLAT
    return w


def nested(depth: int) -> Article:
    section: dict[str, object] = {"id": f"s{depth}", "heading": "Deepest", "paragraphs": [{"claims": [{"text": "x"}]}]}
    for level in range(depth - 1, 0, -1):
        section = {"id": f"s{level}", "heading": f"Level {level}", "sections": [section]}
    return Article.model_validate({"slug": f"deep-{depth}", "title": f"Deep {depth}", "sections": [section]})


# --- layout ---------------------------------------------------------------------------


def test_a_new_wiki_is_sharded_and_a_save_touches_small_trees(wiki: Wiki) -> None:
    assert wiki.layout == LAYOUT_SHARDED
    assert (wiki.state_dir / "layout").read_text().strip() == "2"
    for n in range(40):
        wiki.save(article(f"page-{n}"), f"add {n}")
    assert git(wiki.path, "cat-file", "blob", f"main:articles/{shard_of('page-7')}/page-7.yaml") == dumps(
        article("page-7"))
    top = git(wiki.path, "ls-tree", "main:articles").splitlines()
    assert top and all(line.split()[1] == "tree" for line in top)  # only shard directories up there
    assert len(top) <= 256
    assert wiki.list() == sorted(f"page-{n}" for n in range(40))
    fsck_clean(wiki.path)


def test_migrate_moves_every_article_and_history_follows(tmp_path: Path) -> None:
    w = flat_wiki(tmp_path / "wiki")
    r1 = w.save(article("alpha"), "alpha 1")
    r2 = w.save(with_claims(article("alpha"), "Second. "), "alpha 2", base=r1.id)
    w.save(article("beta"), "beta")
    w.rename("beta", "gamma")
    assert git(w.path, "ls-tree", "-r", "--name-only", "main").split() == ["articles/alpha.yaml",
                                                                          "articles/gamma.yaml"]
    before = {slug: [(r.id, r.path) for r in w.history(slug)] for slug in w.list()}
    latest_before = {slug: w.latest(slug) for slug in w.list()}

    result = CliRunner().invoke(main, ["--wiki", str(w.path), "migrate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("migrated; main is at ")
    assert w.layout == LAYOUT_SHARDED
    assert git(w.path, "ls-tree", "-r", "--name-only", "main").split() == sorted(
        [path_of("alpha", LAYOUT_SHARDED), path_of("gamma", LAYOUT_SHARDED)])
    # The move is not a revision: history, latest and ~N are what they were.
    for slug, revisions in before.items():
        assert [(r.id, r.path) for r in w.history(slug)] == revisions
        latest = w.latest(slug)
        assert latest is not None and latest.id == latest_before[slug].id
        assert latest.path == path_of(slug, LAYOUT_SHARDED)  # where it is now
        assert w.latest_revisions()[slug] == latest
    assert w.load("alpha", rev="~1") == article("alpha")
    assert w.diff("alpha").new_revision == r2.id
    assert len(w.blame("alpha").claims) == 2
    # Saves go to the new layout and the history keeps following.
    r3 = w.save(with_claims(article("alpha"), "Second. ", "Third. "), "alpha 3", base=r2.id)
    assert [r.id for r in w.history("alpha")] == [r3.id, r2.id, r1.id]
    assert w.history("alpha")[0].path == path_of("alpha", LAYOUT_SHARDED)
    assert CliRunner().invoke(main, ["--wiki", str(w.path), "migrate"]).output.startswith("already")
    assert w.check_index() == []
    fsck_clean(w.path)
    w.close()


def test_a_flat_wiki_keeps_working_until_migrated(tmp_path: Path) -> None:
    w = flat_wiki(tmp_path / "wiki")
    first = w.save(article("foo"), "one")
    w.save(with_claims(article("foo"), "More. "), "two", base=first.id)
    assert git(w.path, "ls-tree", "-r", "--name-only", "main").split() == ["articles/foo.yaml"]
    assert w.list() == ["foo"] and len(w.history("foo")) == 2
    w.close()


# --- the collision index -----------------------------------------------------------------


def test_the_index_follows_foreign_commits_and_rebuilds_itself(wiki: Wiki) -> None:
    wiki.save(article("one", title="One"), "one")
    assert wiki.check_index() == []
    # A commit made with plain git adds an article the index has never seen.
    stream = (f"commit refs/heads/main\ncommitter X <x@y> 1700000000 +0000\ndata 3\nfoo\nfrom {wiki.tip()}\n"
              f"M 100644 inline {path_of('two', LAYOUT_SHARDED)}\n")
    text = dumps(article("two", title="Second Title")).encode()
    subprocess.run(["git", "fast-import", "--quiet"], cwd=wiki.path, check=True,
                   input=stream.encode() + b"data %d\n%s\n\n" % (len(text), text))
    assert wiki.check_index() != []  # stale: it describes the old tree
    with pytest.raises(InvalidInput, match="collides with the title of the existing article 'two'"):
        wiki.save(article("three", title="SECOND TITLE"), "three")
    assert wiki.check_index() == []  # brought up to date under the lock
    # Deleted or damaged, it is rebuilt from the tree.
    wiki.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{wiki.state_dir / 'index.sqlite'}{suffix}").unlink(missing_ok=True)
    (wiki.state_dir / "index.sqlite").write_bytes(b"this is not a database" * 100)
    again = Wiki.open(wiki.path)
    with pytest.raises(InvalidInput, match="collides with the title of the existing article 'two'"):
        again.save(article("four", title="second title"), "four")
    assert again.check_index() == []
    assert again.rebuild_index() == 2
    again.close()


def test_confusable_slugs_and_titles_collide(wiki: Wiki) -> None:
    wiki.save(article("paris", title="Paris"), "latin")
    with pytest.raises(InvalidSlug, match="collides with the existing article 'paris'"):
        wiki.save(article("pаris", title="Other"), "cyrillic a")
    with pytest.raises(InvalidSlug):
        wiki.save(article("pαris", title="Other"), "greek alpha")
    with pytest.raises(InvalidInput, match="title"):
        wiki.save(article("other", title="Раris"), "cyrillic R and a")
    wiki.save(article("москва", title="Москва"), "a Cyrillic word with no Latin twin is fine")
    assert wiki.list() == ["paris", "москва"]


def test_a_malformed_article_committed_by_git_does_not_block_other_saves(wiki: Wiki) -> None:
    wiki.save(article("good"), "good")
    stream = (f"commit refs/heads/main\ncommitter X <x@y> 1700000000 +0000\ndata 3\nbad\nfrom {wiki.tip()}\n"
              f"M 100644 inline {path_of('broken', LAYOUT_SHARDED)}\ndata 17\ntitle: [unclosed\n\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=wiki.path, check=True, input=stream.encode())
    wiki.save(article("fresh", title="Fresh"), "a new article beside the broken one")
    assert "fresh" in wiki.list() and "broken" in wiki.list()


# --- save refuses what load would refuse ------------------------------------------------------


def test_every_saved_article_loads_and_what_would_not_is_refused(wiki: Wiki) -> None:
    outcomes = {}
    for depth in range(26, 36):
        candidate = nested(depth)
        try:
            loads(dumps(candidate))
            readable = True
        except InvalidArticle:
            readable = False
        try:
            wiki.save(candidate, f"depth {depth}")
            saved = True
        except InvalidArticle as error:
            assert f"'deep-{depth}'" in str(error) and "nesting" in str(error)
            saved = False
        outcomes[depth] = (readable, saved)
        assert readable == saved, depth
        if saved:
            assert wiki.load(candidate.slug) == candidate
    assert {r for r, _ in outcomes.values()} == {True, False}  # the cap was crossed in the range


def test_an_article_too_big_to_read_back_is_refused_on_every_path(wiki: Wiki, tmp_path: Path) -> None:
    big = Article.model_validate({"slug": "huge", "title": "Huge", "lead": [{"claims": [
        {"text": "word " * 220_000 + f"{i}. "} for i in range(10)]}]})
    assert len(dumps(big).encode()) > MAX_BYTES
    with pytest.raises(InvalidArticle, match=r"'huge'.*over the 10,485,760"):
        wiki.save(big, "too big")
    with pytest.raises(InvalidArticle, match="'huge'"):
        wiki.import_articles([article("small"), big], "batch")
    assert wiki.list() == []  # all or nothing
    source = tmp_path / "huge.yaml"
    source.write_text(dumps(big)[: MAX_BYTES - 10], encoding="utf-8")  # not even valid; the CLI says so in one line
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(source)])
    assert result.exit_code == 2 and "Traceback" not in result.output


# --- bulk import ----------------------------------------------------------------------------------


def test_bulk_import_is_one_commit_with_the_rules_of_save(wiki: Wiki, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for n in range(30):
        (folder / ("sub" if n % 2 else ".") / f"a{n}.yaml").write_text(dumps(article(f"a{n}", title=f"A {n}")))
    (folder / "notes.md").write_text("not an article")
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(folder), "-m", "batch"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 30 and len({line.split()[1] for line in lines}) == 1
    assert git(wiki.path, "rev-list", "--count", "main").strip() == "1"
    assert len(wiki.list()) == 30 and wiki.check_index() == []
    assert wiki.latest_revisions().keys() == set(wiki.list())
    # An existing slug is an edit conflict; a collision inside the batch is refused: nothing is written.
    (tmp_path / "b.yaml").write_text(dumps(article("b1", title="B")))
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(tmp_path / "b.yaml"),
                                       str(folder / "a0.yaml")])
    assert result.exit_code == 3, result.output
    (tmp_path / "c.yaml").write_text(dumps(article("c1", title="B")))
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(tmp_path / "b.yaml"),
                                       str(tmp_path / "c.yaml")])
    assert result.exit_code == 2 and "c.yaml" in result.stderr and "collides" in result.stderr
    assert git(wiki.path, "rev-list", "--count", "main").strip() == "1"
    fsck_clean(wiki.path)


def test_bulk_import_library_refuses_a_conflict(wiki: Wiki) -> None:
    first = wiki.save(article("x"), "x")
    with pytest.raises(EditConflict):
        wiki.import_articles([article("y"), article("x")], "batch")
    assert wiki.tip() == first.id
    result = wiki.import_articles([article("y"), article("z")], "batch")
    assert result.slugs == ("y", "z") and result.commit == wiki.tip()


# --- revisions of an article -----------------------------------------------------------------------


def test_tilde_n_counts_the_articles_own_revisions(wiki: Wiki) -> None:
    a1 = wiki.save(article("a"), "a1")
    wiki.save(article("b"), "b1")
    a2 = wiki.save(with_claims(article("a"), "Two. "), "a2", base=a1.id)
    wiki.save(with_claims(article("b"), "Two. "), "b2", base="HEAD")
    assert wiki.resolve_for("a", "~0") == a2.id
    assert wiki.resolve_for("a", "~1") == a1.id
    assert wiki.resolve_for("a", "HEAD~1") == a2.id  # git's meaning: commits of the whole wiki
    assert wiki.load("a", rev="~1") == article("a")
    with pytest.raises(NotFound, match="has 2 revisions"):
        wiki.load("a", rev="~2")
    with pytest.raises(InvalidRevision):
        wiki.resolve("~1")
    with pytest.raises(InvalidRevision):
        wiki.load("a", rev="~-1")
    runner = CliRunner()
    shown = runner.invoke(main, ["--wiki", str(wiki.path), "show", "a", "--rev", "~1"])
    assert shown.exit_code == 0 and "Two." not in shown.output
    diffed = runner.invoke(main, ["--wiki", str(wiki.path), "diff", "a", "~1", "~0", "--format", "json"])
    assert diffed.exit_code == 0 and a1.id in diffed.output and a2.id in diffed.output
    blamed = runner.invoke(main, ["--wiki", str(wiki.path), "blame", "a", "--rev", "~1", "--format", "json"])
    assert blamed.exit_code == 0 and "Two." not in blamed.output
    beyond = runner.invoke(main, ["--wiki", str(wiki.path), "show", "a", "--rev", "~9"])
    assert beyond.exit_code == 2 and len(beyond.stderr.splitlines()) == 1


def test_a_save_that_changes_nothing_says_so(wiki: Wiki) -> None:
    first = wiki.save(article(), "one")
    again = wiki.save(article(), "again", base=first.id)
    assert isinstance(again, Unchanged) and again == first
    assert not isinstance(first, Unchanged)
    assert git(wiki.path, "rev-list", "--count", "main").strip() == "1"


def test_latest_revisions_agree_with_latest(wiki: Wiki) -> None:
    revs = {}
    for n in range(6):
        revs[f"p{n}"] = wiki.save(article(f"p{n}"), f"p{n}")
    revs["p2"] = wiki.save(with_claims(article("p2"), "More. "), "edit p2", base=revs["p2"].id)
    wiki.rename("p3", "q3")
    assert [(a.slug, r) for a, r in wiki.latest_all()] == [(s, wiki.latest(s)) for s in wiki.list()]
    every = wiki.latest_revisions()
    assert set(every) == set(wiki.list())
    for slug in wiki.list():
        assert every[slug] == wiki.latest(slug)
    assert every["p2"].id == revs["p2"].id and every["p0"].id == revs["p0"].id
    assert wiki.checks_path == wiki.state_dir / "checks.sqlite"


def test_log_blobs_give_each_revisions_blob(wiki: Wiki) -> None:
    first = wiki.save(article(), "one")
    second = wiki.save(with_claims(article(), "B. "), "two", base=first.id)
    logged = wiki.log_blobs("foo")
    assert [r.id for r, _ in logged] == [second.id, first.id]
    for revision, blob in logged:
        assert git(wiki.path, "cat-file", "blob", blob) == wiki.load_text("foo", rev=revision.id)


# --- housekeeping -----------------------------------------------------------------------------


def test_saves_are_repacked_on_the_stores_schedule(wiki: Wiki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upkeep_module, "GC_LOOSE_OBJECTS", 0)  # any loose object in the sample dir triggers it
    objects = wiki.common_dir / "objects"
    for n in range(120):
        wiki.save(article(f"s{n}"), f"s{n}")
        if list(objects.glob("pack/pack-*.pack")):
            break
    assert list(objects.glob("pack/pack-*.pack")), "no repack happened"
    loose = list(objects.glob("??/*"))
    assert len(loose) < 20
    assert list(objects.glob("info/commit-graphs/*.graph")), "no commit-graph (history walks need its filters)"
    assert [r.id for r in wiki.history("s0")] == [git(wiki.path, "rev-list", "--reverse", "main").split()[0]]
    fsck_clean(wiki.path)


def test_list_writes_everything_at_once(wiki: Wiki) -> None:
    wiki.import_articles([article(f"n{i:03d}") for i in range(200)], "many")
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "list"])
    assert result.output == "".join(f"n{i:03d}\n" for i in range(200))


def test_revision_records_need_no_git(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['git'] = None\n"
            "import wikicore.report.diff, wikicore.revision, wikicore.blame\n"
            "assert 'wikicore.store' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0, done.stderr


def test_adopting_a_clone_keeps_its_layout(tmp_path: Path) -> None:
    sharded = Wiki.init(tmp_path / "sharded")
    sharded.save(article("foo"), "foo")
    flat = flat_wiki(tmp_path / "flat")
    flat.save(article("bar"), "bar")
    for source, expected in ((sharded, LAYOUT_SHARDED), (flat, LAYOUT_FLAT)):
        clone = tmp_path / f"clone-{source.path.name}"
        subprocess.run(["git", "clone", "-q", "--bare", str(source.path), str(clone / ".git")], check=True)
        adopted = Wiki.init(clone, adopt=True)
        assert adopted.layout == expected
        adopted.save(article("baz"), "baz")
        assert git(clone, "ls-tree", "-r", "--name-only", "main").split() == sorted(
            path_of(slug, expected) for slug in ("baz", "foo" if source is sharded else "bar"))
        adopted.close()
    sharded.close()
    flat.close()
