"""`wikicore scan` on a real Wikipedia dump, on one worker, two, and a separately started scheduler.

The dump is the shortened 2016 enwiki sample shipped in the gensim 4.4.0 wheel
(fetched from PyPI once, see ``tests/support/scandata.py``; skipped when unreachable).
The scheduler test starts ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1, points ``wikicore scan --scheduler`` at them, and stops them.
"""

from __future__ import annotations

import bz2
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.cli import main

from .support.scandata import enwiki_sample

pytest.importorskip("distributed")
pa_dataset = pytest.importorskip("pyarrow.dataset")

from wikicore.scan import TABLES, scan_dump  # noqa: E402

from .test_scan import TODAY, read_tables  # noqa: E402

#: Small batches, so that two workers both have work on a 206-page sample.
BATCH = 10


@pytest.fixture(scope="module")
def sample() -> Path:
    return enwiki_sample()


@pytest.fixture(scope="module")
def one_worker(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("one") / "out"
    summary = scan_dump(sample, out, workers=1, today=TODAY, batch_pages=BATCH)
    assert summary.workers == 1
    return read_tables(out)


def test_the_real_sample_scans_into_consistent_tables(one_worker: dict[str, list[dict[str, Any]]]) -> None:
    tables = one_worker
    articles = {row["slug"]: row for row in tables["articles"]}
    # 206 pages: 205 of the main namespace, of which 99 are redirects; every other page is an article.
    assert len(articles) == 106 and "anarchism" in articles and articles["anarchism"]["title"] == "Anarchism"
    assert sum(row["claim_count"] for row in articles.values()) == len(tables["claims"]) > 10_000
    assert sum(row["reference_count"] for row in articles.values()) == len(tables["references"]) > 5_000
    assert sum(row["finding_count"] for row in articles.values()) == len(tables["findings"])
    for name in ("claims", "references", "findings"):
        assert {row["slug"] for row in tables[name]} <= set(articles), name
    cited = [row["url"].strip() for row in tables["references"] if row["url"] and row["url"].strip()]
    urls = tables["urls"]
    assert sum(row["reference_count"] for row in urls) == len(cited)
    assert {row["url"] for row in urls} == set(cited)
    assert all(row["article_count"] == len(row["articles"]) and set(row["articles"]) <= set(articles)
               for row in urls)


#: The sample's figures, counted by hand from its wikitext: references marked dead (``{{dead link}}``,
#: ``url-status=dead``) without an archive link, and sentences tagged ``{{citation needed}}``.
MARKED_DEAD_NO_ARCHIVE = {
    ("alberta", "http://www.patentstorm.us/patents/5448263.html"),
    ("afghanistan", "http://www.businessweek.com/news/2011-12-06/indian-group-wins-rights-to-mine-in-afghanistan-s-hajigak.html"),
    ("afghanistan", "http://tolonews.com/en/business/4215-construction-on-kabul-torkham-railway-to-start-soon-ministry-of-mines-says"),
    ("azerbaijan", "http://globaledge.msu.edu/countryInsights/economy.asp?countryID=11&regionID=3"),
    ("abortion", "http://www.dh.gov.uk/prod_consum_dh/groups/dh_digitalassets/documents/digitalasset/dh_127202.pd"),
}
TAGGED_CITATION_NEEDED = 107


def test_the_scan_reports_the_references_the_wiki_marks_dead(one_worker: dict[str, list[dict[str, Any]]]) -> None:
    refs = {(row["slug"], row["ref_id"]): row for row in one_worker["references"]}
    found = {(row["slug"], refs[(row["slug"], row["ref_id"])]["url"])
             for row in one_worker["findings"] if row["code"] == "link-marked-dead-no-archive"}
    assert found == MARKED_DEAD_NO_ARCHIVE
    assert all(row["severity"] == "warning" for row in one_worker["findings"]
               if row["code"] == "link-marked-dead-no-archive")


def test_paragraph_end_citations_cover_the_sentences_before_them(
    one_worker: dict[str, list[dict[str, Any]]],
) -> None:
    claims = len(one_worker["claims"])
    uncited = [row for row in one_worker["findings"] if row["code"] == "claim-uncited"]
    tagged = [row for row in uncited if "tagged as needing a citation" in row["message"]]
    # Per-claim citations alone flagged 15,948 of these 22,536 claims (71%): most were sentences
    # before the citation that ends their paragraph, which covers them on Wikipedia.
    assert claims == 22_536
    assert len(uncited) == 12_869
    assert len(tagged) == TAGGED_CITATION_NEEDED  # every tagged claim, covered or not


def test_two_workers_give_the_same_rows(sample: Path, tmp_path: Path,
                                        one_worker: dict[str, list[dict[str, Any]]]) -> None:
    summary = scan_dump(sample, tmp_path / "out", workers=2, today=TODAY, batch_pages=BATCH)
    assert summary.workers == 2 and summary.partitions > 2
    assert read_tables(tmp_path / "out") == one_worker


def _multistream(sample: Path, dump: Path, index: Path, per_stream: int = 100) -> None:
    """Recompress the sample the way Wikimedia builds ``pages-articles-multistream``, with its index."""
    text = bz2.decompress(sample.read_bytes()).decode("utf-8")
    first = text.index("<page>")
    head, body = text[:first], text[first:]
    end = body.rindex("</page>") + len("</page>")
    body, foot = body[:end], body[end:]
    pages = re.findall(r"\s*<page>.*?</page>", body, re.DOTALL)
    assert "".join(pages).strip() == body.strip()
    blob = bytearray(bz2.compress(head.encode("utf-8")))
    lines = []
    for start in range(0, len(pages), per_stream):
        group = pages[start:start + per_stream]
        for page in group:
            title = re.search(r"<title>(.*?)</title>", page)
            lines.append(f"{len(blob)}:{len(lines)}:{title.group(1) if title else ''}\n")
        blob += bz2.compress("".join(group).encode("utf-8"))
    blob += bz2.compress(foot.encode("utf-8"))
    dump.write_bytes(bytes(blob))
    index.write_bytes(bz2.compress("".join(lines).encode("utf-8")))


def test_the_multistream_dump_read_in_parallel_gives_the_same_rows(
    sample: Path, tmp_path: Path, one_worker: dict[str, list[dict[str, Any]]]
) -> None:
    dump, index = tmp_path / "multistream.xml.bz2", tmp_path / "multistream-index.txt.bz2"
    _multistream(sample, dump, index, per_stream=10)
    summary = scan_dump(dump, tmp_path / "out", workers=2, index=index, today=TODAY, streams_per_task=1)
    assert summary.mode == "multistream" and summary.partitions == 21
    assert read_tables(tmp_path / "out") == one_worker


def _dask_command() -> list[str]:
    script = Path(sys.executable).with_name("dask")
    if script.is_file():
        return [str(script)]
    found = shutil.which("dask")
    if found is None:
        pytest.skip("the `dask` command is not installed")
    return [found]


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; stopped afterwards."""
    dask = _dask_command()
    info = tmp_path / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    logs = [(tmp_path / f"dask-{n}.log").open("wb") for n in range(3)]
    try:
        processes.append(subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--dashboard-address",
             "127.0.0.1:0", "--scheduler-file", str(info)], stdout=logs[0], stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while not info.is_file() or not info.read_text().strip():
            if processes[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dask scheduler did not start: {(tmp_path / 'dask-0.log').read_text()[-2000:]}")
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for n in (1, 2):
            processes.append(subprocess.Popen(
                [*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                 "--name", f"w{n}"], stdout=logs[n], stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def test_a_running_scheduler_with_two_worker_processes_gives_the_same_rows(
    sample: Path, tmp_path: Path, scheduler: str, one_worker: dict[str, list[dict[str, Any]]]
) -> None:
    result = CliRunner().invoke(main, ["scan", str(sample), "-o", str(tmp_path / "out"), "--scheduler", scheduler,
                                       "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "106 articles" in result.output and "on 2 workers" in result.output
    assert read_tables(tmp_path / "out") == one_worker
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([*TABLES, "_scan.json"])
