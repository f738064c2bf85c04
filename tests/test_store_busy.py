"""The writer lock is held for publishing only: a save during a long ``import-dump`` goes through,
and a wiki busy for longer than a writer waits is its own exit status (6), not bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import EXIT_BUSY, EXIT_CODES, main
from wikicore.errors import WikiBusy
from wikicore.serialize import dumps
from wikicore.store import Wiki
from wikicore.store import lock as lock_module

from .support.wiki_helpers import article, fsck_clean, git, with_claims
from .test_dump import dump_xml

ROOT = Path(__file__).resolve().parent.parent
PAGES = 4000


def _pages(*titles: str, text: str = "is a page.", revisions: int = 1) -> list:
    stamps = [f"2001-01-{day:02d}T00:00:00Z" for day in range(1, revisions + 1)]
    return [(t, 0, [(str(100 + n * 10 + r), stamps[r], "Ann", f"Edit {r}", f"{t} {text} {r}")
                    for r in range(revisions)]) for n, t in enumerate(titles)]


def _start_import(wiki: Wiki, dump: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "wikicore", "--wiki", str(wiki.path), "import-dump", "-q", *args,
                             str(dump)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_until_importing(wiki: Wiki, proc: subprocess.Popen[bytes]) -> None:
    """Until the import writes without the lock (its marker is there); fail if it finished first."""
    marker = wiki.state_dir / f"working-{proc.pid}"
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None or not marker.exists():
        pytest.fail("the import finished (or never started) before the save; make the dump bigger")
    time.sleep(0.3)  # well into the parse


@pytest.fixture
def seeded(tmp_path: Path) -> Wiki:
    wiki = Wiki.init(tmp_path / "wiki")
    wiki.save(article("seed", "Seed"), "seed")
    yield wiki
    wiki.close()


def test_a_save_during_a_long_import_dump_succeeds_and_both_are_kept(seeded: Wiki, tmp_path: Path) -> None:
    dump = tmp_path / "big.xml"
    dump.write_text(dump_xml(_pages(*(f"Page {n}" for n in range(PAGES)), text="word " * 200)), encoding="utf-8")
    proc = _start_import(seeded, dump)
    _wait_until_importing(seeded, proc)
    latest = seeded.latest("seed")
    assert latest is not None
    edited = seeded.save(with_claims(seeded.load("seed"), "Saved during the import. "), "during", base=latest.id)
    assert proc.poll() is None, "the save waited for the whole import"
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    assert len(seeded.list()) == PAGES + 1
    assert seeded.load("seed") == with_claims(article("seed", "Seed"), "Saved during the import. ")
    assert edited.id in git(seeded.path, "rev-list", "main").split()  # kept, not overwritten
    assert seeded.check_index() == []
    assert not list(seeded.state_dir.glob("working-*"))
    fsck_clean(seeded.path)


def test_every_revision_of_an_import_dump_is_replayed_after_a_concurrent_save(seeded: Wiki, tmp_path: Path) -> None:
    dump = tmp_path / "history.xml"
    dump.write_text(dump_xml(_pages(*(f"Page {n}" for n in range(PAGES // 4)), text="word " * 100, revisions=3)),
                    encoding="utf-8")
    proc = _start_import(seeded, dump, "--all-revisions")
    _wait_until_importing(seeded, proc)
    seeded.save(article("during", "During"), "during")
    assert proc.poll() is None, "the save waited for the whole import"
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    assert [r.message.splitlines()[0] for r in seeded.history("page-7")] == ["Edit 2", "Edit 1", "Edit 0"]
    assert [r.author for r in seeded.history("page-7")] == ["Ann"] * 3
    assert {"during", "seed", "page-0"} <= set(seeded.list())
    fsck_clean(seeded.path)


def test_an_import_dump_that_a_save_overtook_on_the_same_article_keeps_both_safe(seeded: Wiki,
                                                                                 tmp_path: Path) -> None:
    dump = tmp_path / "big.xml"
    titles = ["Clash", *(f"Page {n}" for n in range(PAGES))]
    dump.write_text(dump_xml(_pages(*titles, text="word " * 200)), encoding="utf-8")
    proc = _start_import(seeded, dump)
    _wait_until_importing(seeded, proc)
    seeded.save(article("clash", "Clash"), "saved in the wiki first")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode not in (0, 4), err.decode()
    assert "'clash'" in err.decode() and "kept at refs/wikicore/import-" in err.decode()
    assert seeded.list() == ["clash", "seed"]  # the save stands; nothing of the import was published
    assert seeded.check_index() == []
    fsck_clean(seeded.path)


# --- a busy wiki ------------------------------------------------------------------------------------

HOLD = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_wiki_busy_for_longer_than_a_writer_waits_is_exit_6_with_a_plain_message(
        seeded: Wiki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock_module, "LOCK_TIMEOUT", 0.5)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(seeded.state_dir / "write.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        source = tmp_path / "new.yaml"
        source.write_text(dumps(article("new", "New")))
        result = CliRunner().invoke(main, ["--wiki", str(seeded.path), "import", str(source)])
        assert result.exit_code == EXIT_BUSY == 6, result.output
        assert result.stderr.strip().startswith("error: the wiki is busy")
        assert "write.lock" in result.stderr and "Traceback" not in result.output
        with pytest.raises(WikiBusy):
            seeded.save(article("other", "Other"), "other")
    finally:
        holder.communicate(b"", timeout=60)
    assert seeded.list() == ["seed"]
    assert EXIT_CODES[WikiBusy] == 6
