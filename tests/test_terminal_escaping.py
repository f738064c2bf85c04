"""One escaping rule for terminals: text from a wiki, a dump or the web never drives it.

Commit messages and author names with ESC sequences, C1 controls and bidi overrides come from
plain git (the store itself refuses them); titles, claims and urls with bidi overrides come from
articles. Every command that prints them shows them as ``\\uXXXX``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.models import Article
from wikicore.report.base import esc, terminal, terminal_text
from wikicore.serialize import dump_path

from .support.report_data import BIDI, HOSTILE, hostile_wiki
from .support.wiki_helpers import git

#: What must never reach a terminal raw: C0 but newline and tab, DEL, C1, separators, bidi controls.
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def run(runner: CliRunner, wiki: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--wiki", str(wiki), *args])
    return result.exit_code, result.stdout, result.stderr


def assert_inert(text: str) -> None:
    assert not RAW.search(text), [ch for ch in RAW.findall(text)]


@pytest.fixture
def wiki(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "wiki"
    _, slug = hostile_wiki(path)
    return path, slug


def test_the_rule() -> None:
    assert terminal(HOSTILE) == (
        "\\u001b[31mred\\u001b[0m \\u001b]0;pwned\\u0007 \\u001b[2J \\u202etxt.exe\\u202c \\u2066iso\\u2069 \\u009b31m"
    )
    assert terminal("a\nb\tc\r") == "a\\u000ab\\u0009c\\u000d"  # one field, one line: nothing forged
    assert terminal_text("a\nb\tc\r\x1b") == "a\nb\tc\\u000d\\u001b"  # multi-line text keeps its lines
    # Right-to-left text itself and the bidi marks stay: Arabic and Hebrew articles need them.
    assert terminal("العربية \u200f עברית") == "العربية \u200f עברית"
    assert esc("<\u202e>") == "&lt;\\u202e&gt;"


def test_history_and_blame_show_hostile_messages_and_authors_escaped(
    runner: CliRunner, wiki: tuple[Path, str]
) -> None:
    path, slug = wiki
    code, out, _ = run(runner, path, "history", slug)
    assert code == 0
    assert_inert(out)
    assert "Mallory \\u001b[31mred\\u001b[0m" in out and "Reword \\u001b[31mred" in out and "\\u202etxt.exe" in out
    assert len(out.splitlines()) == 3  # a newline in a message or an author forges no line

    code, out, _ = run(runner, path, "blame", slug)
    assert code == 0
    assert_inert(out)
    assert "\\u202etxt.exe\\u202c and \\u2067isolated\\u2069" in out  # the claim
    assert "Mallory \\u001b[31mred" in out and "\\u009b31m" in out  # its author, C1 CSI included


def test_diff_and_show_text_escape_article_text(runner: CliRunner, wiki: tuple[Path, str]) -> None:
    path, slug = wiki
    history = [line.split()[0] for line in run(runner, path, "history", slug)[1].splitlines()]
    code, out, _ = run(runner, path, "diff", slug, history[-1], history[0])
    assert code == 0 and "{+" in out
    assert_inert(out)
    assert "\\u202etxt.exe" in out

    code, out, _ = run(runner, path, "show", slug, "--format", "text")
    assert code == 0
    assert_inert(out)
    assert "\\u202etxt.exe" in out and "\n" in out
    # YAML and JSON are data: into a pipe or a file they keep their exact characters.
    code, out, _ = run(runner, path, "show", slug, "--format", "yaml")
    assert code == 0 and BIDI in out


def test_list_escapes_a_hostile_tree_entry(runner: CliRunner, wiki: tuple[Path, str]) -> None:
    """A file name committed by plain git next to the articles, holding a screen-clearing sequence."""
    path, slug = wiki
    tip = git(path, "rev-parse", "refs/heads/main").strip()
    stored = next(p for p in git(path, "ls-tree", "-r", "--name-only", tip).splitlines() if p.endswith(".yaml"))
    hostile = f"{stored.rsplit('/', 1)[0]}/\x1b[2Jevil\u202e.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_INDEX_FILE"] = str(path.parent / "hostile-index")
    blob = git(path, "rev-parse", f"{tip}:{stored}").strip()

    def plumb(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], env=env, capture_output=True, text=True,
                              check=True).stdout.strip()

    plumb("read-tree", tip)
    plumb("update-index", "--add", "--cacheinfo", f"100644,{blob},{hostile}")
    tree = plumb("write-tree")
    commit = plumb("-c", "user.name=x", "-c", "user.email=x@example.org", "commit-tree", tree, "-p", tip,
                   "-m", "plain git adds a file")
    git(path, "update-ref", "refs/heads/main", commit, tip)

    code, out, _ = run(runner, path, "list")
    assert code == 0
    assert_inert(out)
    assert slug in out.splitlines()
    assert "\\u001b[2Jevil\\u202e" in out or "evil" not in out  # shown escaped, or not listed at all


def test_audit_text_and_markdown_escape_titles_and_urls(runner: CliRunner, tmp_path: Path) -> None:
    article = Article.model_validate({
        "slug": "bidi",
        "title": f"Title {BIDI}",
        "lead": [{"claims": [{"id": "c-1", "text": f"A claim {BIDI}", "citations": [{"ref": "r"}]}]}],
        "references": [{"id": "r", "type": "web", "url": "https://example.org/\u202etxt.exe", "title": BIDI}],
    })
    file = tmp_path / "bidi.yaml"
    dump_path(article, file)
    for fmt in ("text", "markdown"):
        result = runner.invoke(main, ["audit", str(file), "--offline", "--format", fmt, "--fail-on", "never"])
        assert result.exit_code == 0, result.output
        assert_inert(result.stdout)
        assert "\\u202etxt.exe" in result.stdout


def test_error_lines_escape_what_the_user_or_a_file_gave(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wiki"
    runner.invoke(main, ["--wiki", str(path), "init"])
    result = runner.invoke(main, ["--wiki", str(path), "show", "x\x1b[2J\u202e"])
    assert result.exit_code == 2
    assert_inert(result.stderr)
    bad = tmp_path / "bad\u202e.yaml"
    bad.write_text("slug: a\ntitle: [\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert_inert(result.stderr)


def test_json_outputs_are_terminal_safe_and_lose_nothing(runner: CliRunner, wiki: tuple[Path, str]) -> None:
    """C1 and bidi controls pass a JSON serializer raw; here they become JSON escapes of the same data."""
    path, slug = wiki
    history = [line.split()[0] for line in run(runner, path, "history", slug)[1].splitlines()]
    for args in (["history", slug], ["blame", slug], ["diff", slug, history[-1], history[0]]):
        code, out, _ = run(runner, path, *args, "--format", "json")
        assert code == 0
        assert_inert(out)
        assert "\\u202e" in out  # escaped in the text...
    blame = json.loads(run(runner, path, "blame", slug, "--format", "json")[1])
    assert any(BIDI in claim["text"] for claim in blame["claims"])  # ...and the same characters once parsed
    authors = [rev["author"] for rev in json.loads(run(runner, path, "history", slug, "--format", "json")[1])
               ["revisions"]]
    assert f"Mallory {HOSTILE}" in authors


def test_yaml_on_a_real_terminal_is_escaped_too(wiki: tuple[Path, str]) -> None:
    """`show --format yaml` with stdout on a pseudo-terminal: what the terminal receives is inert."""
    import pty
    import sys

    path, slug = wiki
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "wikicore", "--wiki", str(path), "show", slug, "--format", "yaml"],
        stdout=follower, stderr=subprocess.PIPE, env=env,
    )
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the writer closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    text = received.decode("utf-8")
    assert "title:" in text and "\\u202etxt.exe" in text
    assert_inert(text.replace("\r\n", "\n"))
