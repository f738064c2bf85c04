"""The collision index is a cache: damaged or forged, it never changes an answer or blocks a save.

Real SQLite files damaged the ways a disk, a crash or a hand can damage them:
a deleted row, garbage pages, an extra column, a directory in its place, each
seen at opening and after the wiki is already open.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import EditConflict, InvalidInput
from wikicore.store import Wiki

from .support.wiki_helpers import article, fsck_clean, with_claims


@pytest.fixture
def wiki(tmp_path: Path) -> Wiki:
    w = Wiki.init(tmp_path / "wiki")
    w.save(article("paris", "Paris"), "paris")
    w.save(article("rome", "Rome"), "rome")
    yield w
    w.close()


def _delete_row(wiki: Wiki, slug: str) -> None:
    db = sqlite3.connect(wiki.state_dir / "index.sqlite")
    db.execute("DELETE FROM entries WHERE slug = ?", (slug,))
    db.commit()
    db.close()


def test_bulk_import_does_not_replace_an_article_missing_from_the_index(wiki: Wiki) -> None:
    _delete_row(wiki, "paris")
    with pytest.raises(EditConflict):
        wiki.import_articles([with_claims(article("paris", "Paris"), "Replaced. ")], "import")
    assert wiki.load("paris") == article("paris", "Paris")


def test_import_dir_does_not_replace_an_article_missing_from_the_index(wiki: Wiki, tmp_path: Path) -> None:
    _delete_row(wiki, "paris")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "paris.txt").write_text("Paris\n\nReplaced by an import.\n")
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(folder)])
    assert result.exit_code == 3, result.output
    assert wiki.load("paris") == article("paris", "Paris")


def test_bulk_reads_the_blob_the_tree_names_not_the_indexs(wiki: Wiki) -> None:
    db = sqlite3.connect(wiki.state_dir / "index.sqlite")
    rome = db.execute("SELECT blob FROM entries WHERE slug = 'rome'").fetchone()[0]
    db.execute("UPDATE entries SET blob = ? WHERE slug = 'paris'", (rome,))
    db.commit()
    db.close()
    with wiki.bulk() as bulk:
        data = bulk.read("paris")
        assert data is not None and b"title: Paris" in data
        bulk.discard()


def _garbage(path: Path) -> None:
    """Every page after the header overwritten, after the log is folded in (so no reader finds them in it)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(page)
        handle.write(b"\x5a" * max(size - page, page))


def _extra_column(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE entries ADD COLUMN extra TEXT")
    db.commit()
    db.close()


def _directory(path: Path) -> None:
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.mkdir()


DAMAGE = {"garbage-pages": _garbage, "extra-column": _extra_column, "directory": _directory}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_an_index_damaged_while_the_wiki_is_open_is_rebuilt(wiki: Wiki, damage: str) -> None:
    index = wiki.state_dir / "index.sqlite"
    DAMAGE[damage](index)
    wiki.save(article("berlin", "Berlin"), "berlin")
    with pytest.raises(InvalidInput, match="collides"):
        wiki.save(article("paris-2", "PARIS"), "a duplicate title")
    assert wiki.list() == ["berlin", "paris", "rome"]
    # A directory put in place of the open file leaves the open connection on the unlinked one,
    # which is still sound: only the other damage is seen (and noted) by this process.
    assert damage == "directory" or any(str(index) in note for note in wiki.collisions.notes)
    fsck_clean(wiki.path)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_an_index_damaged_before_opening_is_rebuilt_and_the_cli_saves(wiki: Wiki, damage: str,
                                                                       tmp_path: Path) -> None:
    wiki.close()
    DAMAGE[damage](wiki.state_dir / "index.sqlite")
    source = tmp_path / "berlin.yaml"
    from wikicore.serialize import dumps
    source.write_text(dumps(article("berlin", "Berlin")))
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(source)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and str(wiki.state_dir / "index.sqlite") in notes[0], result.stderr
    duplicate = tmp_path / "rome-2.yaml"
    duplicate.write_text(dumps(article("rome-2", "ROME")))
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(duplicate)])
    assert result.exit_code == 2, result.output
    assert "collides" in result.output


def test_check_index_names_a_damaged_file(wiki: Wiki) -> None:
    _garbage(wiki.state_dir / "index.sqlite")
    problems = wiki.check_index()
    assert problems and "index.sqlite" in problems[0]
    assert wiki.rebuild_index() == 2
    assert wiki.check_index() == []


# --- packs -------------------------------------------------------------------------------------


def _import(wiki: Wiki, n: int) -> None:
    """One bulk import big enough to be kept as a pack (git fast-import unpacks under 100 objects)."""
    wiki.import_articles([article(f"a{n}-{k}", f"A {n} {k}") for k in range(60)], f"import {n}")


def _packs(wiki: Wiki) -> int:
    return len(list((wiki.common_dir / "objects" / "pack").glob("pack-*.pack")))


def test_seventy_bulk_imports_do_not_leave_seventy_packs(tmp_path: Path) -> None:
    from wikicore.store.upkeep import GC_PACK_LIMIT
    wiki = Wiki.init(tmp_path / "wiki")
    for n in range(70):
        _import(wiki, n)
    assert _packs(wiki) <= GC_PACK_LIMIT
    assert len(wiki.list()) == 70 * 60
    fsck_clean(wiki.path)
    wiki.close()


def test_packs_from_imports_are_merged_beyond_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wikicore.store import upkeep
    monkeypatch.setattr(upkeep, "GC_PACK_LIMIT", 3)
    wiki = Wiki.init(tmp_path / "wiki")
    for n in range(8):
        _import(wiki, n)
        assert _packs(wiki) <= 3
    assert [r.message for r in wiki.history("a0-0")] == ["import 0"]
    fsck_clean(wiki.path)
    wiki.close()


# --- the commit-graph ------------------------------------------------------------------------


def _history_of_61(tmp_path: Path) -> Wiki:
    wiki = Wiki.init(tmp_path / "wiki")
    edited = article("foo", "Foo")
    for n in range(61):
        edited = with_claims(edited, f"Claim {n}. ")
        wiki.save(edited, f"r{n}", base=wiki.tip())
    return wiki


def _flip(path: Path, count: int = 200) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + count, len(data) - 1)):
        data[i] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def _git_ok(wiki: Wiki, *args: str) -> bool:
    return subprocess.run(["git", f"--git-dir={wiki.git_dir}", *args], capture_output=True,
                          check=False).returncode == 0


def test_a_damaged_commit_graph_does_not_truncate_history(tmp_path: Path) -> None:
    wiki = _history_of_61(tmp_path)
    assert _git_ok(wiki, "commit-graph", "write", "--reachable", "--changed-paths")
    wiki.close()
    _flip(wiki.common_dir / "objects" / "info" / "commit-graph")
    reopened = Wiki.open(wiki.path)
    assert len(reopened.history("foo")) == 61
    assert reopened.resolve_for("foo", "~3") == reopened.history("foo")[3].id
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "show", "foo", "--rev", "~60"])
    assert result.exit_code == 0, result.output
    assert "note: the commit-graph" in result.stderr and "does not verify" in result.stderr
    reopened.maintain()  # the next write replaces the damaged graph with a sound one
    assert _git_ok(reopened, "commit-graph", "verify")
    assert len(Wiki.open(wiki.path).history("foo")) == 61
    reopened.close()


def test_a_damaged_layer_of_a_split_commit_graph_does_not_truncate_history(tmp_path: Path) -> None:
    wiki = _history_of_61(tmp_path)
    wiki.maintain()
    layers = sorted((wiki.common_dir / "objects" / "info" / "commit-graphs").glob("*.graph"))
    assert layers, "the store wrote no commit-graph"
    wiki.close()
    _flip(layers[-1])
    reopened = Wiki.open(wiki.path)
    assert len(reopened.history("foo")) == 61
    assert len(reopened.latest_revisions()) == 1
    reopened.close()
