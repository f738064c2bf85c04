"""`wikicore scan` on small hand-made dumps: the tables, bad pages, multistream reading, the CLI.

Everything here runs on a real Dask LocalCluster (worker processes on
127.0.0.1) and reads back real Parquet files with pyarrow; nothing is
downloaded. The real enwiki sample and a separately started scheduler are in
``test_scan_real.py``.
"""

from __future__ import annotations

import bz2
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput

pytest.importorskip("distributed")
pa_dataset = pytest.importorskip("pyarrow.dataset")

from wikicore.scan import MANIFEST, TABLES, scan_dump  # noqa: E402
from wikicore.scan.rows import Rows, scan_page  # noqa: E402
from wikicore.scan.source import ByteRange, Page, iter_range_pages  # noqa: E402

TODAY = dt.date(2026, 1, 1)
HEAD = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">\n'
        "  <siteinfo>\n    <sitename>Test</sitename>\n    <namespaces>\n"
        '      <namespace key="0" case="first-letter" />\n'
        '      <namespace key="1" case="first-letter">Talk</namespace>\n'
        "    </namespaces>\n  </siteinfo>\n")
FOOT = "</mediawiki>\n"


def page_xml(title: str, text: str, ns: int = 0, rev: int = 1) -> str:
    """One ``<page>`` element; ``title`` is escaped, ``text`` is XML already."""
    title_xml = escape(title).replace("&amp;#x90;", "&#x90;")  # a character reference passes through
    return (f"  <page>\n    <title>{title_xml}</title>\n    <ns>{ns}</ns>\n    <id>{rev}</id>\n"
            f"    <revision>\n      <id>{rev}00</id>\n      <timestamp>2016-01-0{rev % 9 + 1}T00:00:00Z</timestamp>\n"
            f"      <contributor><username>Ed</username></contributor>\n"
            f'      <text xml:space="preserve">{text}</text>\n    </revision>\n  </page>\n')


def pages(base: str = "http://127.0.0.1:9/") -> list[str]:
    """Eight pages: five articles (one of them bad), a redirect, a talk page and an unsluggable title."""
    cite = "{{cite web |url=%s |title=%s |access-date=%s}}"
    return [
        page_xml("Alpha", escape(
            "Alpha is a letter.<ref>" + cite % (base + "shared", "Shared", "2015-01-01") + "</ref> "
            "It comes first.<ref>" + cite % (base + "alpha", "Alpha page", "2099-01-01") + "</ref> "
            "Again shared.<ref>" + cite % (base + "shared", "Shared again", "2015-02-01") + "</ref>\n\n"
            "== History ==\nAn uncited sentence.\n\n== References ==\n{{reflist}}\n"), rev=1),
        page_xml("Beta", escape("Beta is second.<ref>" + cite % (base + "shared", "Shared", "2015-01-01")
                                + "</ref>\n\n{{reflist}}\n"), rev=2),
        page_xml("Gamma", escape("'''Gamma''' has no references at all. None.\n"), rev=3),
        page_xml("Alef", "#REDIRECT [[Alpha]]", rev=4),
        page_xml("Talk:Alpha", escape("Talk pages are not articles.<ref>" + cite % (base + "talk", "T", "2015")
                                      + "</ref>"), ns=1, rev=5),
        # A C1 control character is legal XML but refused in a title by the article model: a bad page.
        page_xml("Broken&#x90;page", "Text of a page with a bad title.<ref>"
                 + escape(cite % (base + "broken", "B", "2015-01-01")) + "</ref>", rev=6),
        page_xml("Git", "A title whose slug names a git file.", rev=7),
        page_xml("Delta", escape("Delta cites one.<ref>" + cite % (base + "delta", "D", "2015-03-03")
                                 + "</ref>\n"), rev=8),
    ]


def write_dump(path: Path, items: list[str] | None = None) -> Path:
    data = (HEAD + "".join(items if items is not None else pages()) + FOOT).encode("utf-8")
    if path.suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    else:
        path.write_bytes(data)
    return path


def write_multistream(dump: Path, index: Path, items: list[str], per_stream: int = 2,
                      header_alone: bool = True) -> list[int]:
    """A multistream bz2 the way Wikimedia builds it, and its ``offset:page_id:title`` index."""
    blob = bytearray()
    lines = []
    offsets = []
    groups = [items[i:i + per_stream] for i in range(0, len(items), per_stream)]
    if header_alone:
        blob += bz2.compress(HEAD.encode("utf-8"))
    else:
        groups[0] = [HEAD, *groups[0]]
    for group in groups:
        offsets.append(len(blob))
        for item in group:
            if "<page>" in item:
                title = item.split("<title>")[1].split("</title>")[0]
                lines.append(f"{len(blob)}:{len(lines) + 1}:{title}\n")
        blob += bz2.compress("".join(group).encode("utf-8"))
    blob += bz2.compress(FOOT.encode("utf-8"))
    dump.write_bytes(bytes(blob))
    index.write_bytes(bz2.compress("".join(lines).encode("utf-8")))
    return offsets


def read_tables(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, sorted, so that two scans can be compared whatever their partitioning."""
    tables = {}
    for name in TABLES:
        rows = pa_dataset.dataset(out / name, format="parquet").to_table().to_pylist()
        tables[name] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))
    return tables


@pytest.fixture(scope="module")
def stream_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("scan")
    dump = write_dump(root / "dump.xml.bz2")
    events: list[Any] = []
    summary = scan_dump(dump, root / "out", workers=2, today=TODAY, batch_pages=2, progress=events.append)
    assert events and events[-1].tasks_done == events[-1].tasks_submitted == summary.partitions
    return root / "out", summary


def test_scan_writes_every_table_with_slugs(stream_scan: tuple[Path, Any]) -> None:
    out, summary = stream_scan
    tables = read_tables(out)
    articles = {row["slug"]: row for row in tables["articles"]}
    assert sorted(articles) == ["alpha", "beta", "delta", "gamma"]
    assert articles["alpha"]["title"] == "Alpha" and articles["alpha"]["reference_count"] == 3
    assert articles["alpha"]["revision_id"] == "100"
    assert summary.articles == 4 and summary.redirects == 1 and summary.bad_pages == 2
    assert summary.pages == 7  # the talk page is never shipped
    assert {row["slug"] for row in tables["claims"]} == set(articles)
    assert {row["slug"] for row in tables["references"]} == {"alpha", "beta", "delta"}
    assert all(row["slug"] for row in tables["references"] + tables["claims"])
    cited = [row for row in tables["claims"] if row["slug"] == "alpha" and row["ref_ids"]]
    assert len(cited) == 3
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["articles"] == 4 and manifest["today"] == "2026-01-01" and manifest["tables"] == list(TABLES)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial directory left behind


def test_findings_carry_slug_and_title_and_bad_pages_do_not_stop_the_scan(stream_scan: tuple[Path, Any]) -> None:
    out, _ = stream_scan
    findings = read_tables(out)["findings"]
    bad = [row for row in findings if row["code"] == "page-invalid"]
    assert {row["title"] for row in bad} == {"Broken\x90page", "Git"}
    broken = next(row for row in bad if row["title"] == "Broken\x90page")
    assert broken["slug"] == "broken-page" and broken["severity"] == "error" and "U+0090" in broken["message"]
    assert next(row for row in bad if row["title"] == "Git")["slug"] is None
    future = [row for row in findings if row["code"] == "date-future"]
    assert [row["slug"] for row in future] == ["alpha"]  # 2099 is after the scan's fixed today
    uncited = {row["slug"] for row in findings if row["code"] == "claim-uncited"}
    assert {"alpha", "gamma"} <= uncited
    assert all(row["title"] for row in findings)


def test_urls_table_counts_references_and_articles(stream_scan: tuple[Path, Any]) -> None:
    out, summary = stream_scan
    urls = {row["url"]: row for row in read_tables(out)["urls"]}
    assert set(urls) == {"http://127.0.0.1:9/shared", "http://127.0.0.1:9/alpha", "http://127.0.0.1:9/delta"}
    shared = urls["http://127.0.0.1:9/shared"]
    assert shared["reference_count"] == 3 and shared["article_count"] == 2
    assert shared["articles"] == ["alpha", "beta"] and shared["host"] == "127.0.0.1"
    assert summary.urls == 3


def test_same_rows_on_one_worker_and_from_a_plain_xml(stream_scan: tuple[Path, Any], tmp_path: Path) -> None:
    out, _ = stream_scan
    dump = write_dump(tmp_path / "dump.xml")
    scan_dump(dump, tmp_path / "one", workers=1, today=TODAY, batch_pages=50)
    assert read_tables(tmp_path / "one") == read_tables(out)


@pytest.mark.parametrize("header_alone", [True, False], ids=["header-stream", "header-with-pages"])
def test_multistream_with_index_gives_the_same_rows(stream_scan: tuple[Path, Any], tmp_path: Path,
                                                    header_alone: bool) -> None:
    out, _ = stream_scan
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "multi-index.txt.bz2"
    write_multistream(dump, index, pages(), per_stream=2, header_alone=header_alone)
    summary = scan_dump(dump, tmp_path / "multi", workers=2, index=index, today=TODAY, streams_per_task=1)
    assert summary.mode == "multistream" and summary.partitions == 4
    assert read_tables(tmp_path / "multi") == read_tables(out)
    # The same file is still an ordinary bz2 dump (streams concatenate): scanned without its index too.
    plain = scan_dump(dump, tmp_path / "plain", workers=1, today=TODAY)
    assert plain.mode == "stream" and read_tables(tmp_path / "plain") == read_tables(out)


def test_a_damaged_stream_is_one_finding_and_the_rest_is_scanned(tmp_path: Path) -> None:
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "index.txt"
    offsets = write_multistream(dump, index, pages(), per_stream=2)
    data = bytearray(dump.read_bytes())
    middle = offsets[1] + (offsets[2] - offsets[1]) // 2
    data[middle:middle + 8] = b"\x00" * 8  # corrupt the second stream: Gamma and Alef
    dump.write_bytes(bytes(data))
    summary = scan_dump(dump, tmp_path / "out", workers=1, index=index, today=TODAY, streams_per_task=1)
    tables = read_tables(tmp_path / "out")
    damaged = [row for row in tables["findings"] if row["code"] == "dump-chunk-invalid"]
    assert len(damaged) == 1 and f"bytes {offsets[1]}-{offsets[2]}" in damaged[0]["message"]
    assert sorted(row["slug"] for row in tables["articles"]) == ["alpha", "beta", "delta"]
    assert summary.bad_pages == 3  # the damaged range, Broken page, Git


def test_range_reader_frames_pages_without_the_dump_root(tmp_path: Path) -> None:
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "index.txt"
    offsets = write_multistream(dump, index, pages(), per_stream=3)
    last = ByteRange(0, offsets[-1], dump.stat().st_size)  # includes the closing </mediawiki> stream
    titles = [page.title for page in iter_range_pages(dump, last, b"")]
    assert titles == ["Git", "Delta"]


def test_scan_page_reports_an_importer_error_as_a_finding() -> None:
    rows = Rows()
    scan_page(Page("Huge", 0, "1", "", "x" * (10 * 1024 * 1024 + 1)), rows, TODAY)
    assert rows.counts.bad_pages == 1 and rows.findings["code"] == ["page-invalid"]
    assert rows.findings["title"] == ["Huge"] and "characters" in rows.findings["message"][0]
    assert rows.articles["slug"] == []


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    dump = write_dump(tmp_path / "dump.xml")
    result = runner.invoke(main, ["scan", str(tmp_path / "missing.xml"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "missing.xml: no such dump file" in result.output
    broken = tmp_path / "broken.xml"
    broken.write_text(HEAD + pages()[0] + "  <page><title>Cut", encoding="utf-8")
    result = runner.invoke(main, ["scan", str(broken), "-o", str(tmp_path / "b"), "--workers", "1"])
    assert result.exit_code == 2 and "broken.xml: not a valid MediaWiki XML export" in result.output
    assert not (tmp_path / "b").exists()  # the directory made for the failed scan is gone
    # A dump reader budget (harden's element cap) stops a streamed scan with one line naming the file.
    bomb = tmp_path / "bomb.xml.bz2"
    bomb.write_bytes(bz2.compress((HEAD + page_xml("Alpha", "x").replace("<text", "<x/>" * 10_001 + "<text")
                                   + FOOT).encode("utf-8")))
    result = runner.invoke(main, ["scan", str(bomb), "-o", str(tmp_path / "m"), "--workers", "1"])
    assert result.exit_code == 2 and f"{bomb}: page 'Alpha' holds over 10,000 elements" in result.output
    bad_index = tmp_path / "index.txt"
    bad_index.write_text("12:1:Alpha\nnot a line\n", encoding="utf-8")
    result = runner.invoke(main, ["scan", str(dump), "-o", str(tmp_path / "i"), "--index", str(bad_index)])
    assert result.exit_code == 2 and f"{bad_index}:2: not an 'offset:page_id:title' line" in result.output
    past = tmp_path / "past.txt"
    past.write_text(f"{dump.stat().st_size + 10}:1:Alpha\n", encoding="utf-8")
    result = runner.invoke(main, ["scan", str(dump), "-o", str(tmp_path / "p"), "--index", str(past)])
    assert result.exit_code == 2 and "past the end of the dump" in result.output
    good = tmp_path / "good.txt"
    good.write_text("0:1:Alpha\n", encoding="utf-8")
    result = runner.invoke(main, ["scan", str(dump), "-o", str(tmp_path / "g"), "--index", str(good)])
    assert result.exit_code == 2 and "offset 0 is not the start of a bz2 stream" in result.output  # dump.xml is not bz2
    result = runner.invoke(main, ["scan", str(dump), "-o", str(tmp_path / "w"), "--scheduler", "tcp://127.0.0.1:1",
                                  "--workers", "2"])
    assert result.exit_code == 2 and "give one" in result.output
    result = runner.invoke(main, ["scan", str(dump), "-o", str(tmp_path / "s"), "--scheduler", "nonsense"])
    assert result.exit_code == 2 and "not a scheduler address" in result.output


def test_cli_scan_and_an_occupied_output(tmp_path: Path) -> None:
    runner = CliRunner()
    dump = write_dump(tmp_path / "dump.xml.bz2")
    args = ["scan", str(dump), "-o", str(tmp_path / "out"), "--workers", "1", "--today", "2026-01-01"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "4 articles" in result.output and "2 bad pages" in result.output
    result = runner.invoke(main, args)
    assert result.exit_code == 2 and "already holds a scan" in result.output


def test_unreachable_scheduler_is_a_network_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import wikicore.scan.engine as engine

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 2.0)
    result = CliRunner().invoke(main, ["scan", str(write_dump(tmp_path / "d.xml")), "-o", str(tmp_path / "o"),
                                       "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 5 and "cannot reach the Dask scheduler" in result.output
    assert not (tmp_path / "o").exists()
    (tmp_path / "kept").mkdir()  # a directory that was there before stays, empty
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "d.xml"), "-o", str(tmp_path / "kept"),
                                       "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 5 and (tmp_path / "kept").is_dir() and not list((tmp_path / "kept").iterdir())


def test_missing_extra_is_a_clear_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an install without the extra looks like
    with pytest.raises(InvalidInput, match=r"needs the 'scale' extra \(missing: distributed\)"):
        scan_dump(write_dump(tmp_path / "d.xml"), tmp_path / "o")
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "d.xml"), "-o", str(tmp_path / "o2")])
    assert result.exit_code == 2 and "pip install 'wikicore[scale]'" in result.output


def test_the_package_imports_no_dask_or_arrow_until_a_scan_starts() -> None:
    code = ("import sys, wikicore, wikicore.scan, wikicore.cli; "
            "bad = [m for m in ('distributed', 'dask', 'pyarrow') if m in sys.modules]; "
            "sys.exit(', '.join(bad) or None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_titles_sharing_a_slug_are_reported_across_partitions(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "d.xml", [
        page_xml("AC/DC", "A band.\n", rev=1),
        page_xml("Other", "Something else.\n", rev=2),
        page_xml("AC DC", "Alternating and direct current.\n", rev=3),
    ])
    summary = scan_dump(dump, tmp_path / "out", workers=1, today=TODAY, batch_pages=1)
    tables = read_tables(tmp_path / "out")
    collisions = [row for row in tables["findings"] if row["code"] == "slug-collision"]
    assert [(row["slug"], row["title"]) for row in collisions] == [("ac-dc", "AC DC"), ("ac-dc", "AC/DC")]
    assert all(row["severity"] == "warning" for row in collisions)
    assert "'AC/DC'" in collisions[0]["message"]
    assert summary.findings == len(tables["findings"])
    assert sorted(row["title"] for row in tables["articles"] if row["slug"] == "ac-dc") == ["AC DC", "AC/DC"]


def test_the_client_keeps_at_most_max_in_flight_tasks_queued(tmp_path: Path) -> None:
    events: list[Any] = []
    summary = scan_dump(write_dump(tmp_path / "d.xml"), tmp_path / "out", workers=2, today=TODAY, batch_pages=1,
                        max_in_flight=2, progress=events.append)
    assert summary.partitions == 7 and len(events) == 7
    # An event follows each collected result: the tasks still queued then are at most the limit less one.
    assert max(event.tasks_submitted - event.tasks_done for event in events) <= 1
    assert [event.tasks_done for event in events] == list(range(1, 8))
