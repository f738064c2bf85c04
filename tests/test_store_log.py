"""The wiki-wide log (``Wiki.log``): the newest article changes, as each article's history lists them.

The oracle is the per-article history (``Wiki.history``, which follows renames and layout moves) of
every article at the tip, merged in commit order: the log must list exactly those changes, with the
same previous revision, for any ``limit`` and ``since``, while reading only the newest commits.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Wiki, path_of

from .support.wiki_helpers import article, git, with_claims


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
