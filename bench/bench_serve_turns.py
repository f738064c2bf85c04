#!/usr/bin/env python3
"""Article reads and the static ceiling of several ``wikicore serve`` variants, in turns, with wrk.

Each variant is a label and the PYTHONPATH its server runs with (its first entry is the checkout
whose ``wikicore`` is served): the code before and after a change, or the same code with and
without an extra package directory. All variants serve the same wiki, each warmed the same way
(every article read once in order, then ``--seconds`` of random reads), then each gets
``--seconds`` of article reads and ``--seconds`` of ``/robots.txt`` in turns, ``--rounds`` times,
so a change in the machine's load falls on all of them alike. Beside wrk's latencies and rate,
the server's CPU time per request (every process of its session, from /proc): the steadier figure
on a shared machine.

Usage (the "before" a ``git archive`` of the old commit with this bench copied in)::

    PYTHONPATH=. .venv/bin/python bench/bench_serve_turns.py --wiki /tmp/wiki \\
        --variant before=/tmp/base --variant after=$PWD [--workers 2] [--rounds 3]

A ``--wiki`` that does not exist is built first (10,000 articles, 100,000 revisions, as
``bench_serve.py`` builds it); an existing one must be such a build (slugs ``article-000000`` on).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import WRK, _median_run, _wrk  # noqa: E402
from bench_store import build_wiki  # noqa: E402
from results_file import write_results  # noqa: E402

from tests.support.serve_helpers import Server, free_port, stop, wait_for  # noqa: E402
from wikicore.store import LAYOUT_SHARDED, Wiki  # noqa: E402


def _start(wiki: Path, pythonpath: str, workers: int, log_dir: Path) -> Server:
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    env = {**os.environ, "PYTHONPATH": pythonpath}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wikicore.serve", str(wiki), "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=pythonpath.split(os.pathsep)[0],
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    wait_for(server)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wiki", type=Path, required=True)
    parser.add_argument("--variant", action="append", required=True, metavar="LABEL=PYTHONPATH")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=30.0,
                        help="seconds to wait after start: each worker builds its table of latest revisions")
    args = parser.parse_args()
    if WRK is None:
        raise SystemExit("wrk is not on the PATH: this bench measures with wrk only (bench_serve.py falls back)")
    if not args.wiki.exists():
        build_wiki(args.wiki, 10_000, LAYOUT_SHARDED, revisions=100_000).maintain()
    with Wiki.open(args.wiki) as wiki:
        articles = len(wiki.list())  # the Lua script reads article-000000 to article-<N-1>, as build_wiki names them
    variants = dict(v.split("=", 1) for v in args.variant)
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="wikicore-bench-turns-") as name:
        tmp = Path(name)
        try:
            for label, path in variants.items():
                servers[label] = _start(args.wiki, path, args.workers, tmp)
            time.sleep(args.settle)
            for server in servers.values():
                covered = 0
                while covered < articles:
                    covered += _wrk(server.url, tmp, "sequential", articles, 32, args.seconds, server.process.pid,
                                    offset=covered)["requests"]
                _wrk(server.url, tmp, "random", articles, 32, args.seconds, server.process.pid, offset=99)
            runs: dict[str, dict[str, list[dict[str, Any]]]] = {v: {"article": [], "static": []} for v in servers}
            for turn in range(args.rounds):
                for label, server in servers.items():
                    article = _wrk(server.url, tmp, "random", articles, 32, args.seconds, server.process.pid,
                                   offset=turn)
                    static = _wrk(server.url + "/robots.txt", tmp, "static", articles, 32, args.seconds,
                                  server.process.pid)
                    runs[label]["article"].append(article)
                    runs[label]["static"].append(static)
                    print(f"round {turn + 1} {label}: article p50 {article['p50_ms']} ms p95 {article['p95_ms']} ms "
                          f"{article['requests_per_s']:,} req/s {article['server_cpu_us_per_request']} us/request; "
                          f"static p50 {static['p50_ms']} ms p95 {static['p95_ms']} ms {static['requests_per_s']:,} "
                          f"req/s {static['server_cpu_us_per_request']} us/request; load {os.getloadavg()[0]:.1f}",
                          flush=True)
        finally:
            for server in servers.values():
                stop(server.process)
    results: dict[str, Any] = {"client": f"wrk -t1 -c32 -d{args.seconds:g}s", "workers": args.workers,
                               "articles": articles, "variants": variants}
    for label in runs:
        article, static = _median_run(runs[label]["article"]), _median_run(runs[label]["static"])
        results[label] = {"article": article, "static": static}
        print(f"median {label} (--workers {args.workers}): article p50 {article['p50_ms']} ms p95 {article['p95_ms']} "
              f"ms {article['requests_per_s']:,} req/s {article['server_cpu_us_per_request']} us/request; static p50 "
              f"{static['p50_ms']} ms p95 {static['p95_ms']} ms {static['requests_per_s']:,} req/s "
              f"{static['server_cpu_us_per_request']} us/request")
    write_results("serve_turns", results)


if __name__ == "__main__":
    main()
