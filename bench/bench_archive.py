"""Archive lookups: requests per reference against an IA-like archive, and speed against a real pywb.

Run:  .venv/bin/python bench/bench_archive.py [--refs 2000] [--concurrency 8]

1. **First audit against the IA-like fake** (``wikicore.testing.wayback``, which
   has the availability API's batch form): REFS references, captures for half of
   them, audited with the archive the CLI builds (``open_archives(..., audit=True)``:
   batch availability, then CDX widening of misses within 0.02 requests per
   reference). The archive server counts the requests. The cited URLs are on a
   loopback port nothing listens on, so the link checks cost nothing.
2. **Self-hosted pywb with its rate budget lifted**: the same REFS URLs written
   into a WARC with warcio (each with a 200 capture, an archived 404 after it and
   an archived 503 before it, so the filter matters), served by ``wayback``; the
   archive's gate has no interval (``--archive-rate 0``) and CONCURRENCY lookups
   run at once. pywb has no availability API, so each reference costs one CDX
   request (two when every capture lies after the date). Timed from the
   ``nearest()`` call to its answer; the WARC writing and indexing are not timed.

Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the pywb launcher is a test server (tests/servers/), not part of wikicore

from results_file import write_results  # noqa: E402

from tests.servers.pywb import PywbArchive, PywbCapture  # noqa: E402
from wikicore.archive import SnapshotQuery, WaybackArchive, open_archives  # noqa: E402
from wikicore.audit import audit_articles  # noqa: E402
from wikicore.models import Article  # noqa: E402
from wikicore.net import CheckConfig  # noqa: E402
from wikicore.testing.wayback import FakeWayback  # noqa: E402

SITE = "http://127.0.0.1:9"


def first_audit(refs: int) -> dict[str, object]:
    references, captures = [], []
    for i in range(refs):
        url = f"{SITE}/p/{i}"
        references.append({"id": f"r{i}", "type": "web", "url": url, "access_date": "2021-06-01"})
        if i % 2 == 0:
            captures.append({"url": url, "timestamp": f"2021{(i % 5) + 1:02d}15000000"})
    article = Article.model_validate(
        {"slug": "bench", "title": "Bench", "lead": [{"claims": [{"text": "A claim."}]}], "references": references}
    )
    with FakeWayback(captures) as fake, tempfile.TemporaryDirectory() as tmp:
        archive = open_archives([fake.base_url], audit=True)
        started = time.perf_counter()
        # The link checks refuse the loopback URLs at once; lift their per-host spacing so that
        # 2,000 refusals of one host do not take 500 s of politeness that sends nothing.
        config = CheckConfig(host_interval=0.0, per_host=32)
        report = audit_articles(
            [(article, None)], archive=archive, config=config, db_path=Path(tmp) / "checks.sqlite"
        )
        seconds = time.perf_counter() - started
        found = sum(1 for r in report.articles[0].references if r.archive is not None)
        requests = sum(fake.counts.values())
        return {
            "refs": refs,
            "seconds": round(seconds, 2),
            "archive_requests": requests,
            "requests_per_ref": round(requests / refs, 4),
            "by_endpoint": dict(fake.counts),
            "captures_found": found,
            "captures_held": len(captures),
        }


def pywb_lookups(refs: int, concurrency: int) -> dict[str, object]:
    captures = []
    for i in range(refs):
        url = f"{SITE}/q/{i}"
        captures += [
            PywbCapture(url, "20190301000000", 503),
            PywbCapture(url, f"2020{(i % 9) + 1:02d}01000000", 200),
            PywbCapture(url, "20210501000000", 404),
        ]
    started = time.perf_counter()
    with PywbArchive(captures) as pywb:
        setup = time.perf_counter() - started
        archive = WaybackArchive(pywb.base_url, rates={"cdx": 0, "web": 0, "available": 0}, concurrency=concurrency)
        queries = [SnapshotQuery(f"{SITE}/q/{i}", date(2021, 6, 1)) for i in range(refs)]
        started = time.perf_counter()
        found = archive.nearest(queries)
        seconds = time.perf_counter() - started
        right = sum(
            1
            for i, q in enumerate(queries)
            if (snap := found[q]) is not None and snap.wayback_timestamp == f"2020{(i % 9) + 1:02d}01000000"
        )
        return {
            "refs": refs,
            "concurrency": concurrency,
            "seconds": round(seconds, 2),
            "lookups_per_second": round(refs / seconds, 1),
            "requests": archive.requests_made,
            "nearest_before_200_found": right,
            "warc_index_start_seconds": round(setup, 2),
            "pywb_startup_seconds": round(pywb.startup_seconds, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-pywb", action="store_true")
    args = parser.parse_args()
    audit = first_audit(args.refs)
    print(f"first audit, IA-like fake: {audit['refs']} refs, {audit['archive_requests']} archive requests "
          f"= {audit['requests_per_ref']} per reference (target <= 0.02), {audit['seconds']} s, "
          f"{audit['captures_found']}/{audit['captures_held']} captures found; {audit['by_endpoint']}")
    results: dict[str, object] = {"first_audit_fake_ia": audit}
    if not args.skip_pywb:
        pywb = pywb_lookups(args.refs, args.concurrency)
        print(f"pywb, rate lifted: {pywb['refs']} refs looked up in {pywb['seconds']} s (target <= 30 s), "
              f"{pywb['lookups_per_second']}/s, {pywb['requests']} requests, "
              f"{pywb['nearest_before_200_found']} nearest-before 200 captures right; "
              f"WARC+index+start {pywb['warc_index_start_seconds']} s")
        results["pywb_rate_lifted"] = pywb
    write_results("bench_archive", results)


if __name__ == "__main__":
    main()
