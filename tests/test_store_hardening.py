"""Store and dump-writing defects found by hostile input, each as a regression test on real repositories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput
from wikicore.mediawiki.dumpimport import import_dump
from wikicore.store import LAYOUT_SHARDED, Wiki, path_of

from .support.wiki_helpers import article, fsck_clean, git, with_claims
from .test_dump import dump_xml


def _plain_git(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_AUTHOR_NAME": "X", "GIT_AUTHOR_EMAIL": "x@y", "GIT_COMMITTER_NAME": "X",
                "GIT_COMMITTER_EMAIL": "x@y"})
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


# --- adopted repositories --------------------------------------------------------------------


def test_adopting_a_repository_with_a_checkout_of_main_is_refused_with_the_way_out(tmp_path: Path) -> None:
    code = tmp_path / "code"
    _plain_git("init", "-q", "-b", "main", str(code), cwd=tmp_path)
    (code / "README").write_text("hello\n")
    _plain_git("add", "README", cwd=code)
    _plain_git("commit", "-q", "-m", "code", cwd=code)
    result = CliRunner().invoke(main, ["--wiki", str(code), "init", "--adopt"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "has a checkout of main" in result.stderr and "git clone --bare" in result.stderr
    assert not (code / ".wikicore").exists()
    # The way out it names works: a bare clone becomes the wiki, the checkout is untouched.
    _plain_git("clone", "-q", "--bare", str(code), str(tmp_path / "code-wiki" / ".git"), cwd=tmp_path)
    assert CliRunner().invoke(main, ["--wiki", str(tmp_path / "code-wiki"), "init", "--adopt"]).exit_code == 0
    with Wiki.open(tmp_path / "code-wiki") as wiki:
        wiki.save(article("foo"), "first article")
    assert _plain_git("status", "--porcelain", cwd=code) == ""


def test_adopting_a_repository_whose_main_is_not_checked_out_is_safe(tmp_path: Path) -> None:
    code = tmp_path / "code"
    _plain_git("init", "-q", "-b", "work", str(code), cwd=tmp_path)
    (code / "README").write_text("hello\n")
    _plain_git("add", "README", cwd=code)
    _plain_git("commit", "-q", "-m", "code", cwd=code)
    wiki = Wiki.init(code, adopt=True)
    wiki.save(article("foo"), "wiki on its own branch")
    _plain_git("commit", "-q", "-a", "--allow-empty", "-m", "more code", cwd=code)
    assert wiki.list() == ["foo"]  # the checkout's commits never touch main
    wiki.close()


def test_init_under_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = CliRunner().invoke(main, ["--wiki", str(tmp_path / "afile" / "x"), "init"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "afile" in result.stderr
    with pytest.raises(InvalidInput):
        Wiki.init(tmp_path / "afile")


# --- import-dump ---------------------------------------------------------------------------


def _pages(*titles: str, stamp: str = "2001-01-01T00:00:00Z", text: str = "is a page.") -> list:
    return [(t, 0, [(str(100 + n), stamp, "Ann", "Create", f"{t} {text}")]) for n, t in enumerate(titles)]


def test_import_dump_does_not_replace_an_article_edited_in_the_wiki(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    first = tmp_path / "first.xml"
    first.write_text(dump_xml(_pages("Alpha", "Beta")), encoding="utf-8")
    import_dump(first, wiki.path)
    latest = wiki.latest("alpha")
    assert latest is not None
    edited = wiki.save(with_claims(wiki.load("alpha"), "Edited in the wiki. "), "wiki edit", base=latest.id)
    second = tmp_path / "second.xml"
    second.write_text(dump_xml(_pages("Alpha", "Beta", "Gamma", text="changed upstream.")), encoding="utf-8")
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import-dump", "-q", str(second)])
    assert result.exit_code == 3, result.output
    assert "conflict: 'Alpha'" in result.stderr and "--overwrite" in result.stderr
    assert wiki.latest("alpha") == edited  # untouched
    assert "changed upstream" in wiki.load_text("beta")  # the rest was imported (beta came from a dump)
    assert "gamma" in wiki.list()
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "import-dump", "-q", "--overwrite", str(second)])
    assert result.exit_code == 0, result.output
    assert "changed upstream" in wiki.load_text("alpha")
    assert wiki.check_index() == []
    fsck_clean(wiki.path)
    wiki.close()


def test_dump_dates_outside_gits_range_are_refused_per_page(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    pages = _pages("Ancient", stamp="0001-01-01T00:00:00Z") + _pages("Modern", stamp="2020-01-01T00:00:00Z")
    dump = tmp_path / "d.xml"
    dump.write_text(dump_xml(pages), encoding="utf-8")
    summary = import_dump(dump, wiki.path, all_revisions=True)
    assert any("'Ancient'" in w and "outside what git can store" in w for w in summary.warnings)
    assert wiki.list() == ["modern"]
    fsck_clean(wiki.path)
    assert CliRunner().invoke(main, ["--wiki", str(wiki.path), "history", "modern"]).exit_code == 0
    wiki.close()


def test_a_killed_import_dump_leaves_no_temporary_pack_behind(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    wiki.save(article("seed"), "seed")
    dump = tmp_path / "big.xml"
    dump.write_text(dump_xml(_pages(*(f"Page {n}" for n in range(4000)), text="word " * 400)), encoding="utf-8")
    pack_dir = wiki.common_dir / "objects" / "pack"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "wikicore", "--wiki", str(wiki.path), "import-dump", "-q",
                             str(dump)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(pack_dir.glob("tmp_pack_*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("the import finished before it could be killed; make the dump bigger")
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # its fast-import child notices the closed pipe and dies too
    assert list(pack_dir.glob("tmp_pack_*")), "the kill left nothing to clean (the test proves nothing)"
    wiki.save(article("after"), "the next writer cleans up")
    assert not list(pack_dir.glob("tmp_pack_*")) and not list(pack_dir.glob("tmp_idx_*"))
    assert wiki.list() == ["after", "seed"]
    fsck_clean(wiki.path)
    wiki.close()


# --- history and saves with foreign commits ------------------------------------------------------


def test_an_empty_commit_message_does_not_crash_history_or_blame(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    first = wiki.save(article("foo"), "first")
    text = with_claims(article("foo"), "Second. ").model_dump_json()
    from wikicore.serialize import dumps, loads

    body = dumps(loads(text, "json")).encode()
    stream = (f"commit refs/heads/main\ncommitter X <x@y> 1700000000 +0000\ndata 0\nfrom {first.id}\n"
              f"M 100644 inline {path_of('foo', LAYOUT_SHARDED)}\n").encode() + b"data %d\n%s\n\n" % (len(body), body)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=wiki.path, input=stream, check=True)
    assert git(wiki.path, "log", "-1", "--format=%B", "main").strip() == ""
    assert [r.message for r in wiki.history("foo")] == ["", "first"]
    for args in (["history", "foo"], ["history", "foo", "--format", "json"], ["blame", "foo", "--format", "json"],
                 ["blame", "foo"], ["diff", "foo", "~1", "~0"]):
        result = CliRunner().invoke(main, ["--wiki", str(wiki.path), *args])
        assert result.exit_code == 0, (args, result.output)
    wiki.close()
