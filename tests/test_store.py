"""The git-backed wiki on real repositories: round trips, conflicts, history, renames, locks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikicore.errors import (
    EditConflict,
    InvalidInput,
    InvalidRevision,
    InvalidSlug,
    NotFound,
    StaleLock,
    StoreError,
)
from wikicore.models import Article
from wikicore.serialize import dumps
from wikicore.store import LAYOUT_SHARDED, Wiki, parse_author, parse_revision, path_of

from .support.wiki_helpers import article, fsck_clean, git, tip, with_claims


@pytest.fixture
def wiki(tmp_path: Path) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    yield w
    w.close()


def rich_article() -> Article:
    """Scripts, NEL, trailing spaces, quotes: everything that must survive byte for byte."""
    return Article.model_validate({
        "slug": "azerbaijan-russia-relations",
        "title": "アゼルバイジャンとロシアの関係",
        "language": "ja",
        "lead": [{"claims": [
            {"text": "アゼルバイジャン共和国とロシア連邦の間には二国間関係が存在します。",
             "citations": [{"ref": "r1", "locator": "p. 3", "quote": "«quoted»\u0085next"}]},
            {"text": "Trailing space matters. "},
            {"text": "Multi\nline: yes # not a comment"},
        ]}],
        "sections": [{"heading": "歴史", "paragraphs": [{"claims": [{"text": "no: true, on: 2016-09-29"}]}]}],
        "references": [{"id": "r1", "type": "web", "url": "http://example.org/a?b=c&d",
                        "archive_url": "https://web.archive.org/web/2020/http://example.org/a?b=c&d"}],
    })


def test_init_makes_a_wiki_with_excluded_state(tmp_path: Path) -> None:
    w = Wiki.init(tmp_path / "w")
    assert (tmp_path / "w" / ".git").is_dir()
    assert (tmp_path / "w" / ".wikicore").is_dir()
    assert "/.wikicore/" in (tmp_path / "w" / ".git" / "info" / "exclude").read_text()
    assert w.list() == [] and w.tip() is None
    again = Wiki.init(tmp_path / "w")  # idempotent
    assert again.list() == []
    # No hooks are installed from templates.
    assert not list((tmp_path / "w" / ".git").glob("hooks/*"))


def test_open_refuses_what_is_not_a_wiki(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no wiki at"):
        Wiki.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotFound, match="not a git repository"):
        Wiki.open(tmp_path / "plain")
    # A directory inside another repository is not a wiki: no searching upwards.
    Wiki.init(tmp_path / "outer")
    (tmp_path / "outer" / "inner").mkdir()
    with pytest.raises(NotFound):
        Wiki.open(tmp_path / "outer" / "inner")


def test_save_then_load_is_byte_exact(wiki: Wiki) -> None:
    a = rich_article()
    rev = wiki.save(a, "Import", author="Ada Lovelace <ada@example.org>")
    assert wiki.load_text(a.slug) == dumps(a)
    assert git(wiki.path, "cat-file", "blob", f"main:{path_of(a.slug, LAYOUT_SHARDED)}") == dumps(a)
    assert wiki.load(a.slug) == a
    assert wiki.load(a.slug, rev=rev.id) == a
    assert (rev.author, rev.email, rev.message, rev.path) == (
        "Ada Lovelace", "ada@example.org", "Import", path_of(a.slug, LAYOUT_SHARDED))
    assert rev.date.tzinfo is not None and len(rev.id) == 40 and rev.id.startswith(rev.short)
    assert git(wiki.path, "log", "-1", "--format=%an <%ae>%n%s", "main").splitlines() == [
        "Ada Lovelace <ada@example.org>", "Import"]
    fsck_clean(wiki.path)


def test_new_article_over_an_existing_one_is_a_conflict(wiki: Wiki) -> None:
    first = wiki.save(article(claims=["One. "]), "one")
    with pytest.raises(EditConflict) as caught:
        wiki.save(article(claims=["Other. "]), "blind overwrite")
    assert caught.value.base is None and caught.value.current == first.id
    assert wiki.load("foo") == article(claims=["One. "])
    assert tip(wiki.path) == first.id


def test_stale_base_is_a_conflict_naming_both_revisions(wiki: Wiki) -> None:
    base = wiki.save(article(), "one")
    latest = wiki.save(with_claims(article(), "Two. "), "two", base=base.id)
    with pytest.raises(EditConflict) as caught:
        wiki.save(with_claims(article(), "Three. "), "three", base=base.id)
    assert (caught.value.base, caught.value.current) == (base.id, latest.id)
    assert base.id in str(caught.value) and latest.id in str(caught.value)
    assert tip(wiki.path) == latest.id


def test_base_may_be_any_revision_where_the_article_was_as_now(wiki: Wiki) -> None:
    base = wiki.save(article("foo"), "foo")
    wiki.save(article("bar"), "bar")  # another article moves the branch
    rev = wiki.save(with_claims(article("foo"), "More. "), "edit", base=base.short)
    assert wiki.load("foo") == with_claims(article("foo"), "More. ")
    again = wiki.save(with_claims(article("foo"), "More. ", "Again. "), "edit 2", base="HEAD")
    assert [r.id for r in wiki.history("foo")] == [again.id, rev.id, base.id]


def test_saving_the_same_content_makes_no_commit(wiki: Wiki) -> None:
    rev = wiki.save(article(), "one")
    assert wiki.save(article(), "again", base=rev.id) == rev
    assert git(wiki.path, "rev-list", "--count", "main").strip() == "1"


def test_history_follows_a_rename(wiki: Wiki) -> None:
    r1 = wiki.save(article("old-name", title="T"), "create")
    r2 = wiki.save(with_claims(article("old-name", title="T"), "Second. "), "edit", base=r1.id)
    wiki.save(article("unrelated"), "unrelated")
    r3 = wiki.rename("old-name", "new-name", author="Bob <bob@example.org>")
    assert wiki.list() == ["new-name", "unrelated"]
    history = wiki.history("new-name")
    assert [r.id for r in history] == [r3.id, r2.id, r1.id]
    assert [r.path for r in history] == [path_of("new-name", LAYOUT_SHARDED), path_of("old-name", LAYOUT_SHARDED),
                                         path_of("old-name", LAYOUT_SHARDED)]
    assert history[0].message == "Rename old-name to new-name" and history[0].author == "Bob"
    assert wiki.load("new-name").slug == "new-name"
    # Old revisions are reachable under the new name.
    assert wiki.load("new-name", rev=r1.id) == article("old-name", title="T")
    assert wiki.load("new-name", rev="HEAD~1").slug == "old-name"
    with pytest.raises(NotFound):
        wiki.load("old-name")
    with pytest.raises(NotFound):
        wiki.history("old-name")


def test_rename_refuses_missing_existing_and_colliding(wiki: Wiki) -> None:
    wiki.save(article("a"), "a")
    wiki.save(article("b"), "b")
    with pytest.raises(NotFound):
        wiki.rename("zzz", "c")
    with pytest.raises(InvalidSlug, match="already exists"):
        wiki.rename("a", "b")
    with pytest.raises(InvalidSlug):
        wiki.rename("a", "../b")


def test_resolve_accepts_only_ids_and_head_forms(wiki: Wiki) -> None:
    r1 = wiki.save(article(), "one")
    r2 = wiki.save(with_claims(article(), "Two. "), "two", base=r1.id)
    assert wiki.resolve("HEAD") == r2.id
    assert wiki.resolve("HEAD~1") == wiki.resolve("HEAD^") == r1.id
    assert wiki.resolve(r1.id[:7]) == wiki.resolve(r1.id.upper()) == r1.id
    with pytest.raises(NotFound):
        wiki.resolve("HEAD~5")
    with pytest.raises(NotFound):
        wiki.resolve("deadbeefdeadbeef")
    with pytest.raises(NotFound):
        wiki.resolve("0" * 40)
    blob = git(wiki.path, "rev-parse", f"main:{path_of('foo', LAYOUT_SHARDED)}").strip()
    with pytest.raises(NotFound, match="not a commit"):
        wiki.resolve(blob)
    for bad in ("main", "HEAD..", "-1", "HEAD@{1}", "r1:articles", "", "abc", "HEAD~", "HEAD~-1"):
        with pytest.raises(InvalidRevision):
            parse_revision(bad)


def test_a_branch_named_like_a_hex_id_is_not_a_revision(wiki: Wiki) -> None:
    wiki.save(article(), "one")
    git(wiki.path, "update-ref", "refs/heads/cafe1234", "main")
    with pytest.raises(NotFound):
        wiki.resolve("cafe1234")


def test_latest_and_list(wiki: Wiki) -> None:
    assert wiki.latest("foo") is None
    rev = wiki.save(article("foo"), "foo")
    wiki.save(article("bar"), "bar")
    assert wiki.latest("foo") == rev
    assert wiki.list() == ["bar", "foo"]


def test_authors_and_messages_are_validated(wiki: Wiki, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_author("Ada Lovelace <ada@example.org>") == ("Ada Lovelace", "ada@example.org")
    for bad in ("Ada", "Ada <a@b\n>", "Ada\nEvil <a@b>", "A<b <c@d>", "Ada <a@b> x", "Ada <a b@c>", " <a@b>"):
        with pytest.raises(InvalidInput):
            parse_author(bad)
    monkeypatch.setenv("WIKICORE_AUTHOR", "Env Person <env@example.org>")
    assert wiki.save(article(), "x").author == "Env Person"
    for message in ("", "  \n", "nul\0byte", "escape\x1b[31m"):
        with pytest.raises(InvalidInput):
            wiki.save(article("bar"), message)
    assert wiki.list() == ["foo"]


def test_slug_collisions_after_casefold_and_nfkc_are_refused(wiki: Wiki) -> None:
    wiki.save(article("strasse"), "one")
    with pytest.raises(InvalidSlug, match="collides"):
        wiki.save(article("straße"), "two")
    wiki.save(article("ﬁsh".replace("ﬁ", "fi")), "fish")
    with pytest.raises(InvalidSlug, match="collides"):
        wiki.save(article("ﬁsh"), "ligature")
    assert wiki.list() == ["fish", "strasse"]


def test_hooks_never_run(wiki: Wiki, tmp_path: Path) -> None:
    wiki.save(article(), "one")
    witness = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("reference-transaction", "post-commit", "pre-commit"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {witness}\n")
        hook.chmod(0o755)
    git(wiki.path, "config", "core.hooksPath", str(hooks))
    wiki.save(with_claims(article(), "Two. "), "two", base="HEAD")
    wiki.rename("foo", "bar")
    assert not witness.exists()


def test_a_held_ref_lock_is_reported_with_path_and_age(wiki: Wiki) -> None:
    rev = wiki.save(article(), "one")
    lock = wiki.git_dir / "refs" / "heads" / "main.lock"
    lock.write_text(rev.id + "\n")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    with pytest.raises(StaleLock) as caught:
        wiki.save(with_claims(article(), "Two. "), "two", base=rev.id)
    assert caught.value.path == str(lock) and caught.value.age_seconds >= 3600
    assert str(lock) in str(caught.value) and re.search(r"age 36\d\d s", str(caught.value))
    assert lock.exists() and tip(wiki.path) == rev.id  # not provably stale: left alone


def test_a_young_lock_of_a_live_git_is_waited_for(wiki: Wiki) -> None:
    rev = wiki.save(article(), "one")
    lock = wiki.git_dir / "refs" / "heads" / "main.lock"
    lock.write_text(rev.id + "\n")
    releaser = threading.Timer(0.3, lambda: lock.unlink())  # a git that finishes its update
    releaser.start()
    new = wiki.save(with_claims(article(), "Two. "), "two", base=rev.id)
    releaser.join()
    assert tip(wiki.path) == new.id


def test_a_lock_left_by_a_crashed_wikicore_writer_is_recovered(wiki: Wiki) -> None:
    rev = wiki.save(article(), "one")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    marker = wiki.state_dir / "saving"
    marker.write_text(dead.stdout)
    lock = wiki.git_dir / "refs" / "heads" / "main.lock"
    lock.write_text(rev.id + "\n")
    old = time.time() - 60
    os.utime(marker, (old, old))
    os.utime(lock, (old + 1, old + 1))
    new = wiki.save(with_claims(article(), "Two. "), "two", base=rev.id)
    assert not lock.exists() and not marker.exists() and tip(wiki.path) == new.id


def test_created_wiki_has_no_checkout_to_go_stale(wiki: Wiki) -> None:
    wiki.save(article(), "one")
    assert git(wiki.path, "config", "core.bare").strip() == "true"
    assert not (wiki.path / "articles").exists()
    assert git(wiki.path, "show", f"main:{path_of('foo', LAYOUT_SHARDED)}") == dumps(article())


def test_tree_edits_keep_git_sort_order(wiki: Wiki) -> None:
    slugs = ["a", "a-b", "a.b", "a_b", "ab", "a0", "é", "z", "ß", "日本", "a.b.c"]
    for index in (5, 0, 9, 2, 7, 1, 10, 3, 8, 4, 6):
        wiki.save(article(slugs[index]), f"add {slugs[index]}")
    assert wiki.list() == sorted(slugs)
    fsck_clean(wiki.path)  # --strict checks the order of tree entries
    wiki.rename("a.b", "a.b.d")
    fsck_clean(wiki.path)
    for slug in wiki.list():
        assert wiki.load(slug).slug == slug


def test_a_foreign_subdirectory_under_articles_is_kept_in_order(tmp_path: Path) -> None:
    path = tmp_path / "wiki"
    wiki = Wiki.init(path)
    stream = (
        b"commit refs/heads/main\ncommitter X <x@y> 1700000000 +0000\ndata 4\nseed\n"
        b"M 100644 inline articles/a/notes.txt\ndata 3\nhi\n\n"
        b"M 100644 inline README\ndata 6\nhello\n\n"
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=stream, check=True)
    for slug in ("a-b", "a", "a0", "b"):
        wiki.save(article(slug), f"add {slug}")
    assert wiki.list() == ["a", "a-b", "a0", "b"]
    assert git(path, "show", "main:README") == "hello\n"
    assert git(path, "show", "main:articles/a/notes.txt") == "hi\n"
    fsck_clean(path)
    wiki.close()


def test_sha256_repositories_are_refused_up_front(tmp_path: Path) -> None:
    path = tmp_path / "wiki"
    path.mkdir()
    git(path, "init", "-q", "--object-format=sha256", "-b", "main")
    with pytest.raises(StoreError, match="SHA-1 repositories only"):
        Wiki.init(path, adopt=True)


def test_titles_that_collide_after_casefold_and_nfkc_are_refused(wiki: Wiki) -> None:
    wiki.save(article("first", title="Straße"), "one")
    with pytest.raises(InvalidInput, match="title 'STRASSE' collides"):
        wiki.save(article("second", title="STRASSE"), "two")
    with pytest.raises(InvalidInput, match="collides"):
        wiki.save(article("third", title="Ｓｔｒａßｅ"), "fullwidth")  # NFKC folds the full-width letters
    second = wiki.save(article("second", title="Strasse Nord"), "fine")
    # Retitling an existing article is checked too; keeping a title is not a collision with itself.
    with pytest.raises(InvalidInput, match="collides"):
        wiki.save(article("second", title="strasse"), "retitle", base=second.id)
    wiki.save(with_claims(article("first", title="Straße"), "More. "), "edit", base="HEAD~1")
    assert wiki.list() == ["first", "second"]


def test_compare_and_swap_refuses_a_branch_that_moved(wiki: Wiki) -> None:
    r1 = wiki.save(article("a"), "a")
    r2 = wiki.save(article("b"), "b")
    # What index.commit() would have done blindly: the branch is at r2, not at the expected r1.
    assert not wiki.branch.swap(r1.id, r1.id, "test")
    assert tip(wiki.path) == r2.id
    assert wiki.branch.swap(r1.id, r2.id, "test")
    assert tip(wiki.path) == r1.id


def test_git_output_never_reaches_the_terminal(wiki: Wiki, capfd: pytest.CaptureFixture[str]) -> None:
    rev = wiki.save(article(), "one")
    wiki.save(with_claims(article(), "Two. "), "two", base=rev.id)
    for failing in (lambda: wiki.resolve("HEAD~9"), lambda: wiki.resolve("abcdef12"),
                    lambda: wiki.save(with_claims(article(), "Three. "), "three", base=rev.id),
                    lambda: wiki.load("foo", rev="0" * 40), lambda: wiki.history("nope")):
        with pytest.raises((NotFound, EditConflict)):
            failing()
    wiki.rename("foo", "bar")
    wiki.history("bar")
    wiki.blame("bar")
    wiki.diff("bar")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t\x85"), min_size=1),
    min_size=1, max_size=4,
))
def test_any_article_round_trips_byte_exact(wiki: Wiki, texts: list[str]) -> None:
    data = article("prop", claims=[{"id": f"c{i}", "text": t} for i, t in enumerate(texts)])
    latest = wiki.latest("prop")
    rev = wiki.save(data, "property", base=latest.id if latest else None)
    assert wiki.load_text("prop", rev=rev.id) == dumps(data)
    assert wiki.load("prop", rev=rev.id) == data


def test_init_adopts_an_existing_repository_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "code"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    with pytest.raises(InvalidInput, match="init --adopt"):
        Wiki.init(path)
    assert not (path / ".wikicore").exists()
    with Wiki.init(path, adopt=True) as wiki:
        assert wiki.list() == []
    Wiki.init(path).close()  # a wiki already: init again is idempotent, no flag needed
