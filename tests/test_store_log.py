"""The wiki-wide log (``Wiki.log``): the newest article changes, as each article's history lists them.

The oracle is the per-article history (``Wiki.history``, which follows renames and layout moves) of
every article at the tip, merged in commit order: the log must list exactly those changes, with the
same previous revision, for any ``limit`` and ``since``, while reading only the newest commits.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Wiki, path_of
from wikicore.store import history as store_history

from .support.wiki_helpers import article, git, tip, with_claims


def _oracle(wiki: Wiki) -> list[tuple[str, str, str | None, str]]:
    """(commit, slug, parent, path) of every revision of every article at the tip, newest first."""
    order = {sha: n for n, sha in enumerate(git(wiki.path, "rev-list", "main").split())}
    rows = []
    for slug in wiki.list():
        history = wiki.history(slug)
        for position, rev in enumerate(history):
            parent = history[position + 1].id if position + 1 < len(history) else None
            rows.append((rev.id, slug, parent, rev.path))
    rows.sort(key=lambda row: (order[row[0]], row[1]))
    return rows


def _logged(wiki: Wiki, limit: int, since: _dt.datetime | None = None) -> list[tuple[str, str, str | None, str]]:
    return [(c.revision.id, c.slug, c.parent, c.revision.path) for c in wiki.log(limit, since)]


def _delete(wiki: Wiki, slug: str, message: str) -> None:
    """Delete an article as a plain git user would (the store has no delete of its own)."""
    script = (f"commit refs/heads/main\ncommitter Someone <someone@localhost> now\n"
              f"data {len(message)}\n{message}\nfrom refs/heads/main^0\nD {path_of(slug, wiki.layout)}\n\n")
    subprocess.run(["git", "fast-import", "--quiet", "--date-format=now"], cwd=wiki.path, input=script.encode(),
                   check=True)


def _busy_wiki(path: Path, layout: int) -> Wiki:
    """Edits, a creation, a rename with older revisions, a deletion, a bulk commit of several articles."""
    wiki = Wiki.init(path)
    if layout == LAYOUT_FLAT:
        (wiki.state_dir / "layout").unlink()
    a1 = wiki.save(article("alpha"), "alpha 1")
    wiki.save(article("beta"), "beta 1")
    wiki.save(with_claims(article("alpha"), "Second. "), "alpha 2", base=a1.id)
    wiki.save(article("doomed"), "doomed 1")
    wiki.rename("beta", "gamma", "beta becomes gamma")
    wiki.import_articles([article("epsilon"), article("delta"), article("zeta")], "bulk")
    _delete(wiki, "doomed", "doomed goes")
    wiki.save(article("doomed"), "doomed again")  # its history still lists "doomed 1" before the deletion
    _delete(wiki, "zeta", "zeta goes")
    g = wiki.latest("gamma")
    assert g is not None
    wiki.save(with_claims(article("gamma"), "Later. "), "gamma 2", base=g.id)
    return wiki


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_the_log_lists_what_the_histories_list_newest_first_for_every_limit(tmp_path: Path, layout: int) -> None:
    with _busy_wiki(tmp_path / "wiki", layout) as wiki:
        everything = _oracle(wiki)
        assert {row[1] for row in everything} == {"alpha", "gamma", "delta", "epsilon", "doomed"}  # zeta is gone
        assert "beta" not in {row[1] for row in everything}  # beta's revisions are gamma's now
        for limit in range(len(everything) + 2):
            assert _logged(wiki, limit) == everything[:limit], limit
        assert wiki.log(3)[0].revision.message == "gamma 2"


def test_a_renamed_articles_change_names_its_revision_under_the_old_name_as_parent(tmp_path: Path) -> None:
    with _busy_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        changes = {c.revision.message: c for c in wiki.log(100)}
        beta = changes["beta 1"]
        assert beta.slug == "gamma" and beta.revision.path == path_of("beta", LAYOUT_SHARDED)
        assert changes["beta becomes gamma"].parent == beta.revision.id
        assert changes["alpha 1"].parent is None
        assert changes["doomed again"].parent == changes["doomed 1"].revision.id  # as its history says
        assert "zeta goes" not in changes and "doomed goes" not in changes
        assert all(c.slug != "zeta" for c in changes.values())


def test_since_keeps_only_later_changes(tmp_path: Path) -> None:
    with _busy_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        everything = _oracle(wiki)
        dates = {sha: _dt.datetime.fromisoformat(when) for sha, when in
                 (line.split() for line in git(wiki.path, "log", "--format=%H %aI", "main").splitlines())}
        for since in [*sorted(set(dates.values())), min(dates.values()) - _dt.timedelta(seconds=1)]:
            later = [row for row in everything if dates[row[0]] > since]
            assert _logged(wiki, 50, since) == later, since
            assert _logged(wiki, 1, since) == later[:1], since
        assert _logged(wiki, 50, max(dates.values())) == []


def test_a_layout_migration_is_no_change_and_earlier_changes_keep_their_parents(tmp_path: Path) -> None:
    with _busy_wiki(tmp_path / "wiki", LAYOUT_FLAT) as wiki:
        before = _oracle(wiki)
        assert CliRunner().invoke(main, ["--wiki", str(wiki.path), "migrate"]).exit_code == 0
    with Wiki.open(tmp_path / "wiki") as wiki:
        assert wiki.layout == LAYOUT_SHARDED
        after = _oracle(wiki)
        assert [row[:3] for row in after] == [row[:3] for row in before]
        assert _logged(wiki, 100) == after
        a = wiki.latest("alpha")
        assert a is not None
        wiki.save(with_claims(article("alpha"), "Fourth. "), "alpha after migrate", base=a.id)
        first = wiki.log(1)[0]
        assert first.parent == a.id  # across the migration commit, which is no revision


def test_an_empty_wiki_has_an_empty_log(tmp_path: Path) -> None:
    with Wiki.init(tmp_path / "wiki") as wiki:
        assert wiki.log(10) == []


def test_the_log_reads_only_the_newest_commits(tmp_path: Path) -> None:
    """Cost follows the limit: after the newest changes are found, the rest of the log is not read."""
    with _busy_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        walked: list[tuple[str, tuple[str, ...], int | None]] = []
        original = wiki._history._walk

        def counting(start: str, paths: list[str], count: int | None = None):  # type: ignore[no-untyped-def]
            for commit, entries in original(start, paths, count):
                walked.append((commit.id, tuple(paths), count))
                yield commit, entries

        wiki._history._walk = counting  # type: ignore[method-assign]
        first = wiki.log(1)[0]
        wide = [row for row in walked if row[1] == ("articles",)]
        assert [row[0] for row in wide] == [first.revision.id]  # the newest commit only
        # gamma's revision before is found by its own path, one commit at a time
        assert all(row[2] == 1 for row in walked if row[1] != ("articles",))
        assert first.parent == wiki.history("gamma")[1].id


# --- the changelog: each change's revision before, recorded at write time, confirmed by git ---------------


def _fresh_process_cache() -> None:
    """Forget this process's answers, as a server that just started has none."""
    with store_history._previous_lock:
        store_history._previous.clear()


def _rows(wiki: Wiki) -> dict[tuple[str, str], str | None]:
    """The changelog's rows: (commit, path just before) -> revision before."""
    with sqlite3.connect(wiki.state_dir / "changelog.sqlite") as db:
        return {(c.hex(), path): (prev.hex() if prev is not None else None)
                for c, path, prev in db.execute("SELECT c, path, prev FROM previous")}


def _position(wiki: Wiki) -> str | None:
    with sqlite3.connect(wiki.state_dir / "changelog.sqlite") as db:
        row = db.execute("SELECT v FROM meta WHERE k = 'through'").fetchone()
        return None if row is None else str(row[0])


def _walked(wiki: Wiki, commit: str, path: str) -> str | None:
    _fresh_process_cache()
    return wiki._history.previous(commit, path)


def _edited_wiki(path: Path, layout: int) -> Wiki:
    """Six articles edited in turn, so the oldest listed change of each is an edit, not a creation."""
    wiki = Wiki.init(path)
    if layout == LAYOUT_FLAT:
        (wiki.state_dir / "layout").unlink()
    slugs = [f"article-{n}" for n in range(6)]
    for slug in slugs:
        wiki.save(article(slug), f"{slug} created")
    for round_ in range(3):
        for slug in slugs:
            latest = wiki.latest(slug)
            assert latest is not None
            wiki.save(with_claims(wiki.load(slug), f"Edit {round_} of {slug}. "), f"{slug} edit {round_}",
                      base=latest.id)
    return wiki


def _no_walks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Make the walk for a revision before fail the test if it is asked; return the changes it was asked for."""
    asked: list[tuple[str, str]] = []

    def refuse(self: store_history.History, commit: str, path: str) -> str | None:
        asked.append((commit, path))
        raise AssertionError(f"walked for the revision before {commit[:12]} at {path}")

    monkeypatch.setattr(store_history.History, "previous", refuse)
    return asked


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_every_recorded_revision_before_is_what_the_walk_finds(tmp_path: Path, layout: int) -> None:
    """Saves, renames, bulk imports, deletions and re-creations, a revert, a migration: each row equals the walk."""
    with _busy_wiki(tmp_path / "wiki", layout) as wiki:
        g = wiki.latest("gamma")
        assert g is not None
        first = wiki.load("gamma")
        wiki.save(with_claims(first, "Reverted soon. "), "gamma 3", base=g.id)
        wiki.save(first, "gamma 4 reverts gamma 3", base=wiki.history("gamma")[0].id)  # the blob of gamma 2 again
        if layout == LAYOUT_FLAT:
            wiki.migrate()
            a = wiki.latest("alpha")
            assert a is not None
            wiki.save(with_claims(wiki.load("alpha"), "After the move. "), "alpha after migrate", base=a.id)
        assert _position(wiki) == tip(wiki.path)
        rows = _rows(wiki)
        asked = {(c.revision.id, c.slug) for c in wiki.log(100)}
        assert len(rows) >= len(asked) > 10
        for (commit, path), recorded in rows.items():
            assert recorded == _walked(wiki, commit, path), (commit, path)
        _fresh_process_cache()
        everything = _oracle(wiki)
        for limit in range(len(everything) + 2):
            _fresh_process_cache()
            assert _logged(wiki, limit) == everything[:limit], limit


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_a_fresh_process_lists_the_changes_from_the_changelog_without_walking(tmp_path: Path, layout: int) -> None:
    """The first log of a process: every edit's revision before comes from the table, as the walk would list it."""
    with _edited_wiki(tmp_path / "wiki", layout) as wiki:
        everything = _oracle(wiki)
    script = (
        "import json, sys\n"
        "from wikicore.store import Wiki, history\n"
        "def refuse(self, commit, path):\n"
        "    raise SystemExit(f'walked for {commit} {path}')\n"
        "history.History.previous = refuse\n"
        "with Wiki.open(sys.argv[1]) as wiki:\n"
        "    print(json.dumps([[c.revision.id, c.slug, c.parent, c.revision.path] for c in wiki.log(12)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "wiki")], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, check=False)
    assert done.returncode == 0, done.stderr
    assert [tuple(row) for row in json.loads(done.stdout)] == everything[:12]
    assert all(row[2] is not None for row in everything[:12])  # each of them names a revision before


@pytest.mark.parametrize("catch_up", ["save", "maintain"])
def test_commits_made_by_plain_git_are_listed_right_and_caught_up_at_the_next_write(tmp_path: Path,
                                                                                    catch_up: str) -> None:
    with _edited_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        recorded = _position(wiki)
        # An edit, a rename and a deletion made with git itself, which the store never saw.
        path = path_of("article-2", LAYOUT_SHARDED)
        text = git(wiki.path, "show", f"main:{path}") + "\n"
        moved = article("article-9", claims=["Moved by hand. "]).model_dump_json()
        script = (f"commit refs/heads/main\ncommitter Plain <plain@localhost> now\ndata 7\nby hand\n"
                  f"from refs/heads/main^0\nM 100644 inline {path}\ndata {len(text.encode())}\n{text}\n\n"
                  f"commit refs/heads/main\ncommitter Plain <plain@localhost> now\ndata 8\nmoved it\n"
                  f"D {path_of('article-3', LAYOUT_SHARDED)}\n"
                  f"M 100644 inline {path_of('article-9', LAYOUT_SHARDED)}\ndata {len(moved)}\n{moved}\n\n")
        subprocess.run(["git", "fast-import", "--quiet", "--date-format=now"], cwd=wiki.path, input=script.encode(),
                       check=True)
        _delete(wiki, "article-4", "article-4 goes by hand")
        assert _position(wiki) == recorded != tip(wiki.path)
        everything = _oracle(wiki)
        for limit in range(len(everything) + 2):
            _fresh_process_cache()
            assert _logged(wiki, limit) == everything[:limit], limit
        if catch_up == "save":  # a few commits to go: replayed by the save's own upkeep
            latest = wiki.latest("article-0")
            assert latest is not None
            wiki.save(with_claims(wiki.load("article-0"), "Later. "), "after the plain commits", base=latest.id)
        else:  # any number of commits to go: replayed at the commit-graph's refresh
            wiki.maintain()
        assert _position(wiki) == tip(wiki.path)
        rows = _rows(wiki)
        hand = git(wiki.path, "log", "-1", "--format=%H", "--grep=^by hand$").strip()
        assert (hand, path_of("article-2", LAYOUT_SHARDED)) in rows
        for (commit, path), value in rows.items():
            assert value == _walked(wiki, commit, path), (commit, path)


def test_a_wiki_written_by_git_fast_import_gets_its_changelog_at_maintenance(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's way of building a big wiki: no store write at all, then ``maintain``."""
    wiki = Wiki.init(tmp_path / "wiki")
    wiki.close()
    lines = []
    for n in range(40):
        slug = f"article-{n % 7}"
        text = article(slug, claims=[f"Claim {n}. "]).model_dump_json()
        lines.append(f"commit refs/heads/main\ncommitter Bulk <bulk@localhost> {1_700_000_000 + n} +0000\n"
                     f"data 5\nrev {n % 10}\n"
                     f"M 100644 inline {path_of(slug, LAYOUT_SHARDED)}\ndata {len(text)}\n{text}\n\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=tmp_path / "wiki", input="".join(lines).encode(), check=True)
    with Wiki.open(tmp_path / "wiki") as wiki:
        wiki.maintain()
        assert _position(wiki) == tip(wiki.path)
        for (commit, path), value in _rows(wiki).items():
            assert value == _walked(wiki, commit, path), (commit, path)
        everything = _oracle(wiki)
        _fresh_process_cache()
        asked = _no_walks(monkeypatch)
        assert _logged(wiki, 20) == everything[:20]
        assert asked == []


def _forge(wiki: Wiki, value: object) -> None:
    with sqlite3.connect(wiki.state_dir / "changelog.sqlite") as db:
        db.execute("UPDATE previous SET prev = ?", (value,))


def test_a_forged_or_damaged_changelog_never_changes_an_answer(tmp_path: Path) -> None:
    with _edited_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        everything = _oracle(wiki)
        rows = _rows(wiki)
        some_blob = git(wiki.path, "rev-parse", f"main:{path_of('article-0', LAYOUT_SHARDED)}").strip()
        first_commit = git(wiki.path, "rev-list", "--max-parents=0", "main").strip()

        def check(label: str) -> None:
            for limit in range(len(everything) + 2):
                _fresh_process_cache()
                assert _logged(wiki, limit) == everything[:limit], (label, limit)

        # Each row names, in turn: the commit just before the change (the same blob, but it changed nothing),
        # the revision before that one (it changed the file, to other content), the tip, the first commit, a
        # blob, an object that does not exist, no revision, and values of the wrong kind.
        with sqlite3.connect(wiki.state_dir / "changelog.sqlite") as db:
            for (commit, path), value in rows.items():
                parent = git(wiki.path, "rev-parse", f"{commit}^").strip() if value else None
                db.execute("UPDATE previous SET prev = ? WHERE c = ? AND path = ?",
                           (bytes.fromhex(parent) if parent else None, bytes.fromhex(commit), path))
        check("the commit before")
        with sqlite3.connect(wiki.state_dir / "changelog.sqlite") as db:
            for (commit, path), value in rows.items():
                older = _walked(wiki, value, path) if value else None
                db.execute("UPDATE previous SET prev = ? WHERE c = ? AND path = ?",
                           (bytes.fromhex(older) if older else None, bytes.fromhex(commit), path))
        check("an older revision")
        for label, value in [("the tip", bytes.fromhex(tip(wiki.path))), ("the first commit",
                             bytes.fromhex(first_commit)), ("a blob", bytes.fromhex(some_blob)),
                             ("missing", bytes(range(20))), ("none", None), ("text", first_commit),
                             ("short", b"\x01\x02")]:
            _forge(wiki, value)
            check(label)
        # Garbage in place of the database: bypassed by the log, thrown away and rebuilt by the next write.
        for suffix in ("-wal", "-shm"):
            Path(f"{wiki.state_dir / 'changelog.sqlite'}{suffix}").unlink(missing_ok=True)
        (wiki.state_dir / "changelog.sqlite").write_bytes(b"not a database" * 500)
        check("garbage")
        latest = wiki.latest("article-1")
        assert latest is not None
        wiki.save(with_claims(wiki.load("article-1"), "Mended. "), "after the damage", base=latest.id)
        assert any("changelog.sqlite was damaged" in note for note in wiki.notes)
        assert _position(wiki) == tip(wiki.path)
        for (commit, path), value in _rows(wiki).items():
            assert value == _walked(wiki, commit, path), (commit, path)
        everything = _oracle(wiki)
        check("rebuilt")
        # A directory in its place: bypassed, and writes go on without it.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{wiki.state_dir / 'changelog.sqlite'}{suffix}").unlink(missing_ok=True)
        (wiki.state_dir / "changelog.sqlite").mkdir()
        latest = wiki.latest("article-1")
        assert latest is not None
        wiki.save(with_claims(wiki.load("article-1"), "Again. "), "with a directory there", base=latest.id)
        everything = _oracle(wiki)
        check("a directory")


def test_a_merge_is_not_replayed_and_the_log_walks_past_it(tmp_path: Path) -> None:
    with _edited_wiki(tmp_path / "wiki", LAYOUT_SHARDED) as wiki:
        recorded = _position(wiki)
        other = article("article-7", claims=["On a side branch. "]).model_dump_json()
        script = (f"commit refs/heads/side\ncommitter Plain <plain@localhost> now\ndata 4\nside\n"
                  f"from refs/heads/main^0\nM 100644 inline {path_of('article-7', LAYOUT_SHARDED)}\n"
                  f"data {len(other)}\n{other}\n\n")
        subprocess.run(["git", "fast-import", "--quiet", "--date-format=now"], cwd=wiki.path, input=script.encode(),
                       check=True)
        latest = wiki.latest("article-1")
        assert latest is not None
        wiki.save(with_claims(wiki.load("article-1"), "On main. "), "main moves on", base=latest.id)
        main_tip = tip(wiki.path)
        merge = (f"commit refs/heads/main\ncommitter Plain <plain@localhost> now\ndata 5\nmerge\n"
                 f"from {main_tip}\nmerge refs/heads/side\nM 100644 inline {path_of('article-7', LAYOUT_SHARDED)}\n"
                 f"data {len(other)}\n{other}\n\n")
        subprocess.run(["git", "fast-import", "--quiet", "--date-format=now"], cwd=wiki.path, input=merge.encode(),
                       check=True)
        latest = wiki.latest("article-2")
        assert latest is not None
        wiki.save(with_claims(wiki.load("article-2"), "After the merge. "), "after the merge", base=latest.id)
        wiki.maintain()
        assert _position(wiki) not in (None, recorded) and _position(wiki) == main_tip  # stopped before the merge
        everything = _oracle(wiki)
        for limit in range(len(everything) + 2):
            _fresh_process_cache()
            assert _logged(wiki, limit) == everything[:limit], limit


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_latest_asks_git_for_one_revision_and_finds_the_newest(tmp_path: Path, layout: int) -> None:
    """``Wiki.latest`` bounds its walk (git stops at the first revision) and still follows renames and moves."""
    with _busy_wiki(tmp_path / "wiki", layout) as wiki:
        if layout == LAYOUT_FLAT:
            wiki.migrate()
        walked: list[int | None] = []
        original = wiki._history._walk

        def counting(start: str, paths: list[str], count: int | None = None,
                     **kwargs: bool):  # type: ignore[no-untyped-def]
            walked.append(count)
            yield from original(start, paths, count, **kwargs)

        wiki._history._walk = counting  # type: ignore[method-assign]
        for slug in wiki.list():
            latest = wiki.latest(slug)
            newest = wiki.history(slug)[0]
            assert latest is not None and latest.id == newest.id and latest.message == newest.message, slug
        assert walked.count(1) >= len(wiki.list())  # one bounded walk per latest, at least
