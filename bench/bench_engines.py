"""Which HTTP engine for the link checker, bare: how fast can each client library fetch, with no checker around it?

Run:  .venv/bin/python bench/bench_engines.py [--refs 2000] [--repeat 3]

REFS tiny pages on one loopback host (the hostile little web in its own
process), fetched with plain GETs and bodies read: ``requests`` from a thread
pool (16 and 32 threads, one shared Session), and ``aiohttp`` on one event loop
(128 in flight). Timed inside the process (start-up excluded), median of REPEAT.
This is the ceiling each engine puts on the link checker; lychee 0.24.2 does
the same 2,000 URLs in about 0.5-0.7 s wall on this machine (bench_links.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import requests
from bench_links import Server
from results_file import write_results


def with_requests(urls: list[str], threads: int) -> float:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    session.mount("http://", adapter)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda u: session.get(u, timeout=10).content, urls))
    return time.perf_counter() - started


def with_aiohttp(urls: list[str], in_flight: int) -> float:
    async def run() -> float:
        gate = asyncio.Semaphore(in_flight)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:

            async def one(url: str) -> None:
                async with gate, session.get(url) as response:
                    await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(one(u) for u in urls))
            return time.perf_counter() - started

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = Server(1)
    rows = []
    try:
        for label, fetch in (
            ("requests, 16 threads", lambda u: with_requests(u, 16)),
            ("requests, 32 threads", lambda u: with_requests(u, 32)),
            ("aiohttp, 128 in flight", lambda u: with_aiohttp(u, 128)),
        ):
            times = [fetch(server.urls(args.refs, f"{label}{r}")) for r in range(args.repeat)]
            rows.append({"engine": label, "refs": args.refs, "median_s": round(statistics.median(times), 3),
                         "runs": [round(t, 3) for t in times]})
            print(rows[-1])
    finally:
        server.close()
    write_results("engines", {"runs": rows})


if __name__ == "__main__":
    main()
