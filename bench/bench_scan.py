#!/usr/bin/env python3
"""Whole-dump scan speed on Dask (is all of Wikipedia in reach?): per-core throughput, scaling, worker memory.

Measures, on the shortened 2016 enwiki sample of the gensim 4.4.0 wheel
(fetched at run time into ``$WIKICORE_TEST_CACHE``, never committed), repeated
``--repeat`` times under new titles so that two workers have enough batches:

* **per core, no Dask**: :func:`wikicore.scan.rows.scan_page` over every page in
  this process (import + static checks + rows), as MB of wikitext and articles
  per second;
* **scan on 1 and 2 workers**: ``scan_dump`` against an already running
  ``LocalCluster`` (so cluster start-up is not counted; it is reported apart),
  best of ``--runs``, and the speed-up of 2 over 1;
* **peak memory per worker**: the worker processes' peak RSS (``ru_maxrss``)
  after the scans;
* a **projection** for the full English Wikipedia from the per-core rate.

The machine's load average is recorded before and after: on a shared machine
the 2-worker figure is only as good as the second core is free.

Usage: ``.venv/bin/python bench/bench_scan.py [--repeat 3] [--runs 2]``.
Prints a table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results_file import write_results  # noqa: E402

from wikicore import __version__  # noqa: E402
from wikicore.scan import scan_dump  # noqa: E402
from wikicore.scan.rows import Rows, scan_page  # noqa: E402
from wikicore.scan.source import iter_pages, open_dump  # noqa: E402

MB = 1024 * 1024
TODAY = dt.date(2026, 1, 1)
#: Current English Wikipedia, for the projection: articles, and bytes of XML of current pages.
ENWIKI_ARTICLES = 6_800_000
ENWIKI_XML_BYTES = 100 * 10**9
#: The anchor: Singh, West and Colavizza (2020), Wikipedia Citations, on PySpark.
ANCHOR = "29.3 M citations from 6.1 M English Wikipedia articles (Singh, West and Colavizza 2020, PySpark)"


def sample_dump() -> Path:
    import pytest

    from tests.support.scandata import enwiki_sample

    try:
        return enwiki_sample()
    except pytest.skip.Exception as skip:
        sys.exit(f"cannot fetch the enwiki sample: {skip}")


def repeated(sample: Path, target: Path, repeat: int) -> Path:
    """The sample's pages ``repeat`` times, titles suffixed after the first copy, as one bz2 dump."""
    text = bz2.decompress(sample.read_bytes()).decode("utf-8")
    first = text.index("<page>")
    end = text.rindex("</page>") + len("</page>")
    head, body, foot = text[:first], text[first:end], text[end:]
    copies = [body]
    for n in range(2, repeat + 1):
        copies.append(re.sub(r"<title>(.*?)</title>", lambda m, n=n: f"<title>{m.group(1)} (copy {n})</title>",
                             body))
    target.write_bytes(bz2.compress((head + "\n".join(copies) + foot).encode("utf-8")))
    return target


def per_core(dump: Path) -> dict[str, Any]:
    """scan_page over every page in this one process: the per-core rate, without Dask.

    Rates are given per second of wall time and per second of this process's CPU
    time: on a shared machine the second is what one free core would do.
    """
    with open_dump(dump) as source:
        pages = [page for page in iter_pages(source) if page.namespace == 0]
    rows = Rows()
    chars = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for page in pages:
        before = rows.counts.articles
        scan_page(page, rows, TODAY)
        if rows.counts.articles > before:
            chars += len(page.text or "")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"pages": len(pages), "articles": rows.counts.articles, "article_chars": chars,
            "references": rows.counts.references, "claims": rows.counts.claims, "wall_s": round(seconds, 2),
            "cpu_s": round(cpu, 2), "mb_per_wall_s": round(chars / MB / seconds, 3),
            "mb_per_cpu_s": round(chars / MB / cpu, 3), "articles_per_cpu_s": round(rows.counts.articles / cpu, 2)}


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def on_cluster(dump: Path, workers: int, runs: int, batch_pages: int, work: Path) -> dict[str, Any]:
    """Scans against a running LocalCluster of ``workers`` single-threaded processes."""
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           host="127.0.0.1")
    startup = time.perf_counter() - started
    walls, makespans, totals = [], [], []
    summary = None
    try:
        with Client(cluster) as client:
            idle = client.run(_rss_mb)
            for run in range(runs):
                out = work / f"w{workers}-r{run}"
                cpu_before = client.run(_cpu_s)
                start = time.perf_counter()
                summary = scan_dump(dump, out, scheduler=cluster.scheduler_address, today=TODAY,
                                    batch_pages=batch_pages)
                walls.append(time.perf_counter() - start)
                used = [after - cpu_before[name] for name, after in client.run(_cpu_s).items()]
                makespans.append(max(used))
                totals.append(sum(used))
            peaks = client.run(_peak_rss_mb)
    finally:
        cluster.close()
    assert summary is not None
    return {"workers": workers, "startup_s": round(startup, 2), "wall_s": [round(t, 2) for t in walls],
            "best_wall_s": round(min(walls), 2), "worker_cpu_s_total": [round(t, 2) for t in totals],
            "worker_cpu_s_busiest": [round(t, 2) for t in makespans], "best_busiest_cpu_s": round(min(makespans), 2),
            "articles": summary.articles, "partitions": summary.partitions,
            "idle_rss_mb_per_worker": sorted(round(v, 1) for v in idle.values()),
            "peak_rss_mb_per_worker": sorted(round(v, 1) for v in peaks.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="copies of the sample's pages (default 3)")
    parser.add_argument("--runs", type=int, default=2, help="scans per worker count; the best is kept (default 2)")
    parser.add_argument("--batch-pages", type=int, default=10, help="pages per task (default 10)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        dump = repeated(sample_dump(), work / "sample.xml.bz2", args.repeat)
        xml_bytes = len(bz2.decompress(dump.read_bytes()))
        bz2_bytes = dump.stat().st_size
        core = per_core(dump)
        one = on_cluster(dump, 1, args.runs, args.batch_pages, work)
        two = on_cluster(dump, 2, args.runs, args.batch_pages, work)
    load_after = os.getloadavg()
    speedup_wall = one["best_wall_s"] / two["best_wall_s"]
    # With CPU-bound workers the wall time on free cores is the busiest worker's CPU time:
    # this is the speed-up two free cores give, whatever else the shared machine runs.
    speedup_cpu = one["best_busiest_cpu_s"] / two["best_busiest_cpu_s"]
    chars_per_xml_byte = core["article_chars"] / xml_bytes
    core_hours_by_bytes = ENWIKI_XML_BYTES * chars_per_xml_byte / (core["mb_per_cpu_s"] * MB) / 3600
    refs_per_article = core["references"] / core["articles"]
    data = {
        "wikicore": __version__,
        "dump": {"repeat": args.repeat, "xml_mb": round(xml_bytes / MB, 2), "bz2_mb": round(bz2_bytes / MB, 2)},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "per_core": core,
        "one_worker": one,
        "two_workers": two,
        "speedup_2_over_1_wall": round(speedup_wall, 2),
        "speedup_2_over_1_busiest_worker_cpu": round(speedup_cpu, 2),
        "projection_enwiki": {
            "articles": ENWIKI_ARTICLES, "xml_bytes": ENWIKI_XML_BYTES,
            "core_hours_by_bytes": round(core_hours_by_bytes, 1),
            "core_hours_by_articles": round(ENWIKI_ARTICLES / core["articles_per_cpu_s"] / 3600, 1),
            "references_per_article_in_sample": round(refs_per_article, 1),
            "anchor": ANCHOR,
        },
    }
    print(f"sample x{args.repeat}: {data['dump']['xml_mb']} MB XML, {core['articles']} articles, "
          f"{core['references']} references; load average before {data['load_average_before']}, "
          f"after {data['load_average_after']} (2 cores)")
    print(f"per core (no Dask): {core['mb_per_cpu_s']} MB/s of article wikitext per CPU second "
          f"({core['mb_per_wall_s']} per wall second), {core['articles_per_cpu_s']} articles per CPU second")
    for result in (one, two):
        print(f"{result['workers']} worker(s): wall {result['wall_s']} s, busiest worker CPU "
              f"{result['worker_cpu_s_busiest']} s, all workers CPU {result['worker_cpu_s_total']} s; "
              f"{result['partitions']} partitions; cluster start {result['startup_s']} s; RSS per worker idle "
              f"{result['idle_rss_mb_per_worker']} MB, peak {result['peak_rss_mb_per_worker']} MB")
    print(f"speed-up 2 workers over 1: {speedup_wall:.2f}x by wall time, {speedup_cpu:.2f}x by busiest-worker CPU")
    proj = data["projection_enwiki"]
    print(f"enwiki projection: {proj['core_hours_by_bytes']} core-hours by bytes, "
          f"{proj['core_hours_by_articles']} by article count (sample articles are larger than average)")
    write_results("scan", data)


if __name__ == "__main__":
    main()
