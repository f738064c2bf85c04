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
from click.testing import CliRunner, Result

from wikicore.cli import main
from wikicore.errors import EditConflict, InvalidInput
from wikicore.models import Article
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


# --- forged rows: the index is sealed ------------------------------------------------------------
#
# A hand with sqlite3 edits the closed index; then one `wikicore` command saves. Each forgery below
# would, unsealed, have let a duplicate title in or refused a legal save (or both); sealed, it is
# found before the index answers, rebuilt from the tree, and said in one note naming the file.


def _sql(wiki: Wiki, *statements: tuple[str, tuple[object, ...]]) -> None:
    db = sqlite3.connect(wiki.state_dir / "index.sqlite")
    for sql, params in statements:
        db.execute(sql, params)
    db.commit()
    db.close()


def _insert(table: str, row: tuple[object, ...]) -> tuple[str, tuple[object, ...]]:
    return f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row


def _table(wiki: Wiki, table: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(wiki.state_dir / "index.sqlite")
    rows = db.execute(f"SELECT * FROM {table}").fetchall()
    db.close()
    return rows


def _forge_title_key(wiki: Wiki) -> None:
    # Rome's title key says "berlin": a second "ROME" would pass, a first "Berlin" would be refused.
    _sql(wiki, ("UPDATE entries SET tkey = 'berlin' WHERE slug = 'rome'", ()))


def _delete_rome(wiki: Wiki) -> None:
    _sql(wiki, ("DELETE FROM entries WHERE slug = 'rome'", ()))


def _change_blob(wiki: Wiki) -> None:
    (paris,) = [row[1] for row in _table(wiki, "entries") if row[0] == "paris"]
    _sql(wiki, ("UPDATE entries SET blob = ? WHERE slug = 'rome'", (paris,)))


def _replay_row(wiki: Wiki) -> None:
    # The sealed row of "rome" (title Rome), copied; rome is renamed "roma" and retitled "Roma"; the old row
    # is put back in place of roma's, keeping the count: "Rome" looks taken and "Roma" free.
    (old,) = [row for row in _table(wiki, "entries") if row[0] == "rome"]
    wiki.rename("rome", "roma")
    wiki.save(article("roma", "Roma"), "retitle", base=wiki.tip())
    wiki.close()
    _sql(wiki, ("DELETE FROM entries WHERE slug = 'roma'", ()), _insert("entries", old))


def _header_tree(wiki: Wiki) -> None:
    # The index as it was before "berlin" was saved, claiming to describe the tree after it: nothing
    # would resync it, and a second "BERLIN" would pass.
    entries, meta = _table(wiki, "entries"), _table(wiki, "meta")
    wiki.save(article("berlin", "Berlin"), "berlin")
    wiki.close()
    (tree,) = [v for k, v in _table(wiki, "meta") if k == "tree"]
    _sql(wiki, ("DELETE FROM entries", ()), ("DELETE FROM meta", ()),
         *(_insert("entries", row) for row in entries), *(_insert("meta", row) for row in meta),
         ("UPDATE meta SET v = ? WHERE k = 'tree'", (tree,)))


def _header_tally(wiki: Wiki) -> None:
    # A row deleted and the header's hidden tally flipped in its first bytes: its own seal fails.
    _delete_rome(wiki)
    (header,) = [v for k, v in _table(wiki, "meta") if k == "seal"]
    nonce, hidden, mark = str(header).split(" ")
    flipped = f"{int(hidden[:8], 16) ^ 1:08x}{hidden[8:]}"
    _sql(wiki, ("UPDATE meta SET v = ? WHERE k = 'seal'", (" ".join([nonce, flipped, mark]),)))


def _move_bucket(wiki: Wiki) -> None:
    # Rome's row, seal intact, filed under another bucket of title keys: a check of "ROME" would not see it.
    _sql(wiki, ("UPDATE entries SET tb = (tb + 1) % 256 WHERE slug = 'rome'", ()))


#: forgery -> (what it does, a duplicate that must be refused, a legal new article that must be saved)
FORGERIES = {
    "title-key": (_forge_title_key, ("rome-2", "ROME"), ("berlin", "Berlin")),
    "deleted-row": (_delete_rome, ("rome-2", "ROME"), ("berlin", "Berlin")),
    "changed-blob": (_change_blob, ("rome-2", "ROME"), ("berlin", "Berlin")),
    "replayed-row": (_replay_row, ("roma-2", "ROMA"), ("rome-city", "Rome")),
    "header-tree": (_header_tree, ("berlin-2", "BERLIN"), ("lyon", "Lyon")),
    "header-tally": (_header_tally, ("rome-2", "ROME"), ("berlin", "Berlin")),
    "moved-bucket": (_move_bucket, ("rome-2", "ROME"), ("berlin", "Berlin")),
}


def _cli_save(wiki: Wiki, tmp_path: Path, new: Article, *options: str) -> Result:
    from wikicore.serialize import dumps
    source = tmp_path / f"{new.slug}.yaml"
    source.write_text(dumps(new), encoding="utf-8")
    return CliRunner().invoke(main, ["--wiki", str(wiki.path), "save", "--no-update", *options, str(source)])


def _index_notes(wiki: Wiki, result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if line.startswith("note: ") and str(wiki.state_dir / "index.sqlite") in line]


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_index_neither_lets_a_duplicate_in_nor_refuses_a_legal_save(wiki: Wiki, tmp_path: Path,
                                                                              forgery: str) -> None:
    forge, (dup_slug, dup_title), (new_slug, new_title) = FORGERIES[forgery]
    forge(wiki)
    wiki.close()
    before = wiki.list()
    result = _cli_save(wiki, tmp_path, article(dup_slug, dup_title))
    assert result.exit_code == 2 and "collides" in result.output, result.output
    assert len(_index_notes(wiki, result)) == 1, result.stderr
    assert Wiki.open(wiki.path).list() == before
    result = _cli_save(wiki, tmp_path, article(new_slug, new_title))
    assert result.exit_code == 0, result.output
    assert _index_notes(wiki, result) == [], result.stderr  # rebuilt once, sound since
    with Wiki.open(wiki.path) as reopened:
        assert reopened.list() == sorted([*before, new_slug])
        assert reopened.check_index() == []


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forgery_the_check_does_not_need_leaves_a_legal_save_alone_and_check_index_finds_it(
    wiki: Wiki, tmp_path: Path, forgery: str
) -> None:
    # A check verifies the buckets that can hold its answer; a forged row elsewhere changes no answer of it
    # (and is found by the first check that reads its bucket, above). The whole-table check finds it at once.
    forge, _, (new_slug, new_title) = FORGERIES[forgery]
    forge(wiki)
    wiki.close()
    with Wiki.open(wiki.path) as reopened:
        problems = reopened.check_index()
        assert problems and any("index.sqlite" in problem for problem in problems), problems
    result = _cli_save(wiki, tmp_path, article(new_slug, new_title))
    assert result.exit_code == 0, result.output
    with Wiki.open(wiki.path) as reopened:
        assert new_slug in reopened.list()


def test_a_forged_title_key_of_the_edited_article_does_not_skip_the_check(wiki: Wiki, tmp_path: Path) -> None:
    # Paris's row says its title is already "Rome": an edit retitling Paris "Rome" would look like no retitle.
    _sql(wiki, ("UPDATE entries SET tkey = 'rome' WHERE slug = 'paris'", ()))
    wiki.close()
    result = _cli_save(wiki, tmp_path, article("paris", "Rome"), "--base", wiki.tip() or "")
    assert result.exit_code == 2 and "collides with the title of the existing article 'rome'" in result.output
    assert len(_index_notes(wiki, result)) == 1, result.stderr
    assert Wiki.open(wiki.path).load("paris").title == "Paris"


@pytest.mark.parametrize("forgery", ["deleted-row", "slug-key"])
def test_a_forged_index_does_not_let_a_rename_take_a_look_alike_slug(wiki: Wiki, forgery: str) -> None:
    wiki.save(article("strasse", "Strasse"), "strasse")
    wiki.close()
    if forgery == "deleted-row":
        _sql(wiki, ("DELETE FROM entries WHERE slug = 'strasse'", ()))
    else:
        _sql(wiki, ("UPDATE entries SET skey = 'elsewhere' WHERE slug = 'strasse'", ()))
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "mv", "paris", "straße"])
    assert result.exit_code == 2 and "collides with the existing article 'strasse'" in result.output, result.output
    assert len(_index_notes(wiki, result)) == 1, result.stderr
    assert Wiki.open(wiki.path).list() == ["paris", "rome", "strasse"]


def test_a_forged_title_key_does_not_let_import_dir_in_a_duplicate(wiki: Wiki, tmp_path: Path) -> None:
    _forge_title_key(wiki)
    wiki.close()
    folder = tmp_path / "in"
    folder.mkdir()
    from wikicore.serialize import dumps
    (folder / "rome-2.yaml").write_text(dumps(article("rome-2", "ROME")), encoding="utf-8")
    (folder / "lyon.yaml").write_text(dumps(article("lyon", "Lyon")), encoding="utf-8")
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import", str(folder)])
    assert result.exit_code == 2 and "collides" in result.output, result.output
    assert len(_index_notes(wiki, result)) == 1, result.stderr
    assert Wiki.open(wiki.path).list() == ["paris", "rome"]


def test_a_whole_index_copied_from_another_time_is_brought_up_to_date_silently(wiki: Wiki, tmp_path: Path) -> None:
    # Every row and the header of one moment agree with each other: it is a true description of an
    # older tree, which the next save brings up to date from the diff (no damage, no note).
    saved = (wiki.state_dir / "index.sqlite").read_bytes()
    wiki.collisions.close()
    wiki.save(article("berlin", "Berlin"), "berlin")
    wiki.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{wiki.state_dir / 'index.sqlite'}{suffix}").unlink(missing_ok=True)
    (wiki.state_dir / "index.sqlite").write_bytes(saved)
    result = _cli_save(wiki, tmp_path, article("berlin-2", "BERLIN"))
    assert result.exit_code == 2 and "collides" in result.output, result.output
    assert _index_notes(wiki, result) == [], result.stderr


def test_without_a_usable_key_the_index_is_not_believed(wiki: Wiki, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A key others can read seals nothing (wikicore.seal): answers then come from the tree, whatever the file says.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from wikicore.seal import load_key
    assert load_key() is not None  # made on first use
    key = tmp_path / "state" / "wikicore" / "cache.key"
    key.chmod(0o644)
    _forge_title_key(wiki)
    _sql(wiki, ("UPDATE entries SET tkey = 'rome' WHERE slug = 'paris'", ()))
    wiki.close()
    result = _cli_save(wiki, tmp_path, article("rome-2", "ROME"))
    assert result.exit_code == 2 and "collides with the title of the existing article 'rome'" in result.output
    assert _cli_save(wiki, tmp_path, article("berlin", "Berlin")).exit_code == 0
    assert _cli_save(wiki, tmp_path, article("paris", "Rome"), "--base", wiki.tip() or "").exit_code == 2
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "mv", "berlin", "rome"])
    assert result.exit_code == 2, result.output
    assert Wiki.open(wiki.path).list() == ["berlin", "paris", "rome"]


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
