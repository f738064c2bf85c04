"""import-dump: a small MediaWiki XML export, streamed into a real git repository in tmp_path."""

from __future__ import annotations

import bz2
import datetime as dt
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import ImportFailed, WriteConflict
from wikicore.mediawiki.dump import iter_dump
from wikicore.mediawiki.dumpimport import import_dump
from wikicore.mediawiki.importer import import_wikitext
from wikicore.serialize import dumps, loads
from wikicore.store import LAYOUT_SHARDED, path_of

NS_011 = "http://www.mediawiki.org/xml/export-0.11/"
NS_010 = "http://www.mediawiki.org/xml/export-0.10/"

CITE = "{{cite web |url=http://a.example.org |title=A}}"
Revision = tuple[str, str, str, str, str]  # id, timestamp, user ("ip:" prefix for IPs), comment, text

PAGES: list[tuple[str, int, list[Revision]]] = [
    ("Alpha", 0, [
        ("101", "2001-01-15T13:15:00Z", "Ann", "Create", "Alpha is a letter.<ref>" + CITE + "</ref>"),
        ("102", "2001-02-01T08:00:00Z", "ip:192.0.2.7", "",
         "Alpha is the first letter.<ref name=\"a\">" + CITE + "</ref> It is old.<ref name=\"a\" />"),
        ("103", "2002-03-04T05:06:07Z", "Bob <b>", "Copy-edit & refs\nsecond line",
         "'''Alpha''' is the first letter of the Greek alphabet.<ref name=\"a\">" + CITE
         + "</ref>\n\n== History ==\nIt is old."),
    ]),
    ("Beta test", 0, [
        ("201", "2003-01-01T00:00:00Z", "Chloé", "Start", "Beta is second."),
        ("202", "2003-01-02T00:00:00Z", "Chloé", "Expand", "Beta is second. 東京は首都である。"),
    ]),
    ("A", 0, [("301", "2004-01-01T00:00:00Z", "Dan", "Redirect", "#REDIRECT [[Alpha]]")]),
    ("First letter", 0, [("302", "2004-01-02T00:00:00Z", "Dan", "Redirect", "#REDIRECT [[Alpha#History]]")]),
    ("Template:Box", 10, [("401", "2005-01-01T00:00:00Z", "Eve", "tpl", "{{{1}}}")]),
    ("!!!", 0, [("501", "2005-01-01T00:00:00Z", "Eve", "odd", "An unslugifiable title.")]),
    ("BETA_TEST", 0, [("601", "2005-01-01T00:00:00Z", "Eve", "dup", "Collides with Beta test.")]),
]


def dump_xml(pages: list[tuple[str, int, list[Revision]]], namespace: str = NS_011) -> str:
    out = [f'<mediawiki xmlns="{namespace}" version="0.11" xml:lang="en">',
           "<siteinfo><sitename>Test</sitename><namespaces>",
           '<namespace key="0" case="first-letter" />',
           '<namespace key="10" case="first-letter">Template</namespace>',
           "</namespaces></siteinfo>"]
    for number, (title, ns, revisions) in enumerate(pages, start=1):
        out.append(f"<page><title>{escape(title)}</title><ns>{ns}</ns><id>{number}</id>")
        target = revisions[-1][4]
        if target.startswith("#REDIRECT"):
            out.append(f"<redirect title={quoteattr(target[12:-2])} />")
        for rev_id, timestamp, user, comment, text in revisions:
            who = f"<ip>{escape(user[3:])}</ip>" if user.startswith("ip:") else \
                f"<username>{escape(user)}</username><id>9</id>"
            out.append(f"<revision><id>{rev_id}</id><timestamp>{timestamp}</timestamp>"
                       f"<contributor>{who}</contributor>"
                       + (f"<comment>{escape(comment)}</comment>" if comment else "")
                       + f'<model>wikitext</model><format>text/x-wiki</format>'
                       f'<text bytes="{len(text.encode())}" xml:space="preserve">{escape(text)}</text></revision>')
        out.append("</page>")
    out.append("</mediawiki>")
    return "\n".join(out)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    from wikicore.store import Wiki

    path = tmp_path / "wiki"
    Wiki.init(path).close()
    return path


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / "dump.xml"
    path.write_text(dump_xml(PAGES), encoding="utf-8")
    return path


def stored(repo: Path, slug: str) -> str:
    return git(repo, "show", f"main:{path_of(slug, LAYOUT_SHARDED)}")


def expected(title: str, slug: str, text: str, aliases: list[str] | None = None) -> str:
    article = import_wikitext(text, slug=slug, title=title)
    if aliases:
        article = article.model_copy(update={"aliases": aliases})
    return dumps(article)


def test_all_revisions_become_commits_with_their_authors_dates_and_messages(repo: Path, dump: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    summary = import_dump(dump, repo, all_revisions=True, progress=lambda d, t: seen.append((d, t)))
    assert (summary.pages, summary.revisions, summary.aliases, summary.skipped) == (2, 5, 2, 2)
    assert summary.commits == 6  # five revisions, then the aliases
    assert summary.tip == git(repo, "rev-parse", "main").strip()
    assert any("'!!!'" in w for w in summary.warnings)
    assert any("BETA_TEST" in w and "taken by 'Beta test'" in w for w in summary.warnings)
    assert seen[-1] == (2, None) and len(seen) == len(PAGES)

    log = git(repo, "log", "--reverse", "--format=%an|%ae|%at|%cn|%ct|%s", "main").splitlines()
    rows = [line.split("|") for line in log]
    assert [r[0] for r in rows] == ["Ann", "192.0.2.7", "Bob b", "Chloé", "Chloé", "wikicore import-dump"]
    assert all(r[1] == "" for r in rows[:5])  # wiki users have no e-mail address
    stamps = ["2001-01-15T13:15:00Z", "2001-02-01T08:00:00Z", "2002-03-04T05:06:07Z", "2003-01-01T00:00:00Z",
              "2003-01-02T00:00:00Z"]
    for row, stamp in zip(rows, stamps, strict=False):
        epoch = str(int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))
        assert row[2] == epoch and row[4] == epoch  # author and committer date are the edit's
    assert [r[5] for r in rows[:5]] == ["Create", "Edit 102 of Alpha", "Copy-edit & refs second line", "Start",
                                        "Expand"]
    body = git(repo, "log", "-1", "--format=%B", "main~3")
    assert "Wiki-Page: Alpha\nWiki-Revision: 103" in body

    alpha = PAGES[0][2][-1][4]
    assert stored(repo, "alpha") == expected("Alpha", "alpha", alpha, ["A", "First letter"])
    assert stored(repo, "beta-test") == expected("Beta test", "beta-test", PAGES[1][2][-1][4])
    first = expected("Alpha", "alpha", PAGES[0][2][0][4])
    assert git(repo, "show", f"main~5:{path_of('alpha', LAYOUT_SHARDED)}") == first
    assert git(repo, "ls-tree", "--name-only", "-r", "main").split() == sorted([
        path_of("alpha", LAYOUT_SHARDED), path_of("beta-test", LAYOUT_SHARDED)])
    subprocess.run(["git", "-C", str(repo), "fsck", "--strict", "--no-progress"], check=True, capture_output=True)
    assert git(repo, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_latest_revisions_in_one_commit_from_bz2_and_export_010(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "dump.xml.bz2"
    path.write_bytes(bz2.compress(dump_xml(PAGES, NS_010).encode("utf-8")))
    summary = import_dump(path, repo)
    assert (summary.pages, summary.revisions, summary.aliases, summary.commits) == (2, 2, 2, 1)
    assert git(repo, "rev-list", "--count", "main").strip() == "1"
    assert git(repo, "log", "-1", "--format=%s", "main").strip() == (
        "Import 2 pages from dump.xml.bz2 (2 redirects recorded as aliases)")
    assert stored(repo, "alpha") == expected("Alpha", "alpha", PAGES[0][2][-1][4], ["A", "First letter"])


def test_import_builds_on_the_current_tip_and_aliases_existing_articles(repo: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.xml"
    first.write_text(dump_xml(PAGES[:1]), encoding="utf-8")
    import_dump(first, repo)
    old = git(repo, "rev-parse", "main").strip()
    second = tmp_path / "second.xml"
    second.write_text(dump_xml([PAGES[1], PAGES[2]]), encoding="utf-8")
    summary = import_dump(second, repo, all_revisions=True)
    assert summary.aliases == 1
    assert git(repo, "rev-list", "--count", f"{old}..main").strip() == "3"
    assert git(repo, "merge-base", "--is-ancestor", old, "main") == ""
    assert loads(stored(repo, "alpha")).aliases == ["A"]


def test_a_page_that_becomes_a_redirect_loses_its_article(repo: Path, tmp_path: Path) -> None:
    pages = [("Gamma", 0, [("1", "2001-01-01T00:00:00Z", "Ann", "Create", "Gamma text."),
                           ("2", "2001-01-02T00:00:00Z", "Ann", "Merge", "#REDIRECT [[Delta]]")]),
             ("Delta", 0, [("3", "2001-01-03T00:00:00Z", "Ann", "Create", "Delta text.")])]
    path = tmp_path / "d.xml"
    path.write_text(dump_xml(pages), encoding="utf-8")
    summary = import_dump(path, repo, all_revisions=True)
    assert summary.aliases == 1
    assert git(repo, "ls-tree", "--name-only", "-r", "main").split() == [path_of("delta", LAYOUT_SHARDED)]
    assert loads(stored(repo, "delta")).aliases == ["Gamma"]


def test_branch_moved_during_import_keeps_the_save_and_replays_the_import(repo: Path, dump: Path) -> None:
    def meddle(done: int, total: int | None) -> None:
        # Someone saves while the import runs: the import must not overwrite it.
        if done == 1 and not git(repo, "for-each-ref", "refs/heads/main").strip():
            empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # a wiki is bare: commit by plumbing
            who = ["-c", "user.name=x", "-c", "user.email=x@example.org"]
            commit = git(repo, *who, "commit-tree", empty_tree, "-m", "x")
            git(repo, "update-ref", "refs/heads/main", commit.strip())

    summary = import_dump(dump, repo, all_revisions=True, progress=meddle)
    # The save is kept, first; the import's 6 commits come after it, each as the dump had it.
    assert git(repo, "log", "--reverse", "--format=%s", "main").splitlines()[0] == "x"
    assert git(repo, "rev-list", "--count", "main").strip() == "7"
    assert summary.tip == git(repo, "rev-parse", "main").strip()
    first = git(repo, "log", "--reverse", "--format=%an %ad", "--date=iso-strict", "main").splitlines()[1]
    assert first == "Ann 2001-01-15T13:15:00+00:00"  # authors and dates as the dump had them
    assert git(repo, "for-each-ref", "refs/wikicore").strip() == ""  # no temporary ref left


def test_branch_moved_on_an_article_of_the_import_is_refused(repo: Path, dump: Path) -> None:
    def meddle(done: int, total: int | None) -> None:
        # Someone saves an article the dump also writes: neither may overwrite the other.
        if done == 1 and not git(repo, "for-each-ref", "refs/heads/main").strip():
            def fed(data: str, *args: str) -> str:
                return subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, text=True,
                                      check=True).stdout.strip()

            body = fed("slug: alpha\ntitle: Alpha\n", "hash-object", "-w", "--stdin")
            tree = fed(f"100644 blob {body}\talpha.yaml\n", "mktree")
            shard = path_of("alpha", LAYOUT_SHARDED).split("/")[1]
            articles = fed(f"040000 tree {tree}\t{shard}\n", "mktree")
            root = fed(f"040000 tree {articles}\tarticles\n", "mktree")
            who = ["-c", "user.name=x", "-c", "user.email=x@example.org"]
            commit = git(repo, *who, "commit-tree", root, "-m", "x")
            git(repo, "update-ref", "refs/heads/main", commit.strip())

    with pytest.raises(WriteConflict, match="'alpha' during the import") as error:
        import_dump(dump, repo, all_revisions=True, progress=meddle)
    assert git(repo, "log", "--format=%s", "main").split() == ["x"]
    kept = str(error.value).split("kept at ")[1].split()[0]
    assert git(repo, "rev-list", "--count", kept).strip() == "6"  # nothing lost either
    # Another writer got there first: an edit conflict (exit 3), not bad input (exit 2).
    from wikicore.cli import EXIT_CONFLICT, _exit_code

    assert _exit_code(error.value) == EXIT_CONFLICT


def test_malformed_dump_changes_nothing(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(dump_xml(PAGES)[:-40], encoding="utf-8")
    with pytest.raises(ImportFailed, match="not a valid MediaWiki XML export"):
        import_dump(path, repo)
    assert git(repo, "for-each-ref") == ""


def test_not_a_repository(tmp_path: Path, dump: Path) -> None:
    from wikicore.errors import NotFound

    with pytest.raises(NotFound):
        import_dump(dump, tmp_path / "nowhere")


def test_iter_dump_streams_one_page_at_a_time(dump: Path) -> None:
    with dump.open("rb") as source:
        items = list(iter_dump(source, all_revisions=False))
    titles = [i.title if i else None for i in items]
    assert titles == ["Alpha", None, "Beta test", None, "A", None, "First letter", None, "Template:Box", None,
                      "!!!", None, "BETA_TEST", None]
    assert items[0] is not None and items[0].id == "103" and items[0].user == "Bob <b>"


def test_store_reads_what_the_import_wrote(repo: Path, dump: Path) -> None:
    from wikicore.store import Wiki

    import_dump(dump, repo, all_revisions=True)
    with Wiki.open(repo) as wiki:
        assert wiki.load("alpha").aliases == ["A", "First letter"]
        assert len(wiki.history("alpha")) == 4


def test_cli_import_dump(repo: Path, dump: Path) -> None:
    result = CliRunner().invoke(main, ["--wiki", str(repo), "import-dump", str(dump), "--all-revisions"])
    assert result.exit_code == 0, result.output
    assert "2 pages, 5 revisions, 2 aliases, 2 skipped, 6 commits" in result.output
    assert "warning: '!!!'" in result.output
    quiet = CliRunner().invoke(main, ["--wiki", str(repo), "import-dump", str(dump), "-q"])
    assert quiet.exit_code == 0 and "warning" not in quiet.output


def test_cli_import_dump_bad_input_exits_2(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<mediawiki><page>", encoding="utf-8")
    result = CliRunner().invoke(main, ["--wiki", str(repo), "import-dump", str(path)])
    assert result.exit_code == 2
    assert "not a valid MediaWiki XML export" in result.output


def test_cli_import_dump_progress_only_on_a_terminal(repo: Path, dump: Path, tmp_path: Path) -> None:
    """Carriage-return progress is for a terminal: a pipe or a log gets none."""
    import os
    import pty
    import sys

    command = [sys.executable, "-m", "wikicore", "--wiki", str(repo), "import-dump", str(dump)]
    piped = subprocess.run(command, capture_output=True, text=True, check=False)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "imported" not in piped.stderr
    assert "warning: '!!!'" in piped.stderr  # the warnings still come

    second = tmp_path / "second"
    from wikicore.store import Wiki

    Wiki.init(second).close()
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([*command[:4], str(second), *command[5:]], stdout=subprocess.PIPE,
                              stderr=follower, check=False)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert b"\rimported 2 pages" in seen


WARNED = [("Gamma", 0, [("701", "2006-01-01T00:00:00Z", "Fay", "Start",
                         "Gamma is third.<ref>{{cite web |url=http://g.example.org |title=G |date=garbage}}</ref>")])]
WARNING = "reference r-"


@pytest.mark.parametrize("all_revisions", [False, True])
def test_source_warnings_go_to_the_commit_message_not_the_article(repo: Path, tmp_path: Path,
                                                                 all_revisions: bool) -> None:
    path = tmp_path / "warned.xml"
    path.write_text(dump_xml(PAGES[:2] + WARNED), encoding="utf-8")
    import_dump(path, repo, all_revisions=all_revisions)
    article = loads(stored(repo, "gamma"))
    assert article.source is not None and article.source.warnings == []
    message = git(repo, "log", "-1", "--format=%B", "main", "--", path_of("gamma", LAYOUT_SHARDED))
    assert "\n\nImport warnings:\n- 'Gamma': reference r-" in message
    assert "could not read the date 'garbage'" in message


def test_reimporting_the_same_dump_makes_no_commit(repo: Path, dump: Path) -> None:
    first = import_dump(dump, repo)
    assert first.commits == 1 and first.tip is not None
    again = import_dump(dump, repo)
    assert again.commits == 0 and again.tip is None
    assert git(repo, "rev-list", "--count", "main").strip() == "1"
    assert git(repo, "rev-parse", "main").strip() == first.tip
