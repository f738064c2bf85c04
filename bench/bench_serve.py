#!/usr/bin/env python3
"""Benchmarks of ``wikicore serve`` against its targets (below), on a real uvicorn server on 127.0.0.1.

* start: seconds from starting the server process to its first answer (median of 3; target <= 1.5 s);
* load: 50 concurrent clients each making 20 edits to 10 shared articles (GET, change one random claim,
  PUT with ``If-Match`` and ``?merge=true``) against ``--workers 2``: lost updates (a 2xx revision missing
  from the article's history; target 0), 5xx answers (target 0), every other answer a 409/412 naming the
  current revision, and the merge rate (2xx answers that merged another edit);
* reads: ``GET /api/v1/articles/{slug}`` of random slugs at 10,000 articles under 32 concurrent clients,
  p50 and p95 (targets 10 and 50 ms) and requests/s, beside ``GET /robots.txt`` (a static answer through
  the same stack: the ceiling);
* changes: ``GET /api/v1/changes`` at 10,000 articles and 100,000 revisions, the first answer after
  start (cold), the median of 20 after it, and the first answer after each of three saves (target 100 ms);
  and, over several fresh starts of ``--workers 1`` (:func:`bench_changes`), the first ``/changes`` and the
  first ``/changes.atom`` of each start, with the server's CPU time beside the wall time. ``--wiki PATH``
  measures only these, on a wiki already built (``build_wiki`` then ``Wiki.maintain``) instead of building one.

The clients are Python threads with httpx on the same machine: they take CPU from the server, so the
figures are what a 2-core machine does with both on it.

Usage: ``.venv/bin/python bench/bench_serve.py [--quick] [--articles N] [--revisions N]``.
Prints a table and writes JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import build_wiki  # noqa: E402
from results_file import write_results  # noqa: E402

from tests.support.serve_helpers import Server, free_port, serving, stop, wait_for  # noqa: E402
from wikicore.models import Article  # noqa: E402
from wikicore.store import LAYOUT_SHARDED, Wiki  # noqa: E402

TARGETS = {"start_s": 1.5, "read_p50_ms": 10.0, "read_p95_ms": 50.0, "changes_ms": 100.0}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def bench_start(tmp: Path, repeat: int) -> dict[str, Any]:
    """Seconds from ``python -m wikicore.serve`` (what ``wikicore serve`` runs) to its first answer."""
    root = tmp / "start"
    with Wiki.init(root) as wiki:
        wiki.save(Article.model_validate({"slug": "a", "title": "A"}), "create")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        port = free_port()
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "wikicore.serve", str(root), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                   start_new_session=True)
        try:
            wait_for(Server(f"http://127.0.0.1:{port}", port, process, tmp / "start.log"))
            times.append(time.monotonic() - start)
        finally:
            stop(process)
    return {"first_answer_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3)}


def _shared_article(index: int, claims: int = 20) -> Article:
    return Article.model_validate({
        "slug": f"shared-{index}", "title": f"Shared {index}",
        "lead": [{"claims": [{"id": f"c{k}", "text": f"Claim {k} of article {index}. "} for k in range(claims)]}],
    })


def bench_load(tmp: Path, clients: int, edits: int, articles: int, workers: int) -> dict[str, Any]:
    root = tmp / "load"
    with Wiki.init(root) as wiki:
        for i in range(articles):
            wiki.save(_shared_article(i), "create")
    statuses: Counter[int] = Counter()
    saved: list[tuple[str, str]] = []
    merged = 0
    bad_answers: list[str] = []
    lock = threading.Lock()
    with serving(root, "--workers", str(workers), log_dir=tmp) as server:

        def client(seed: int) -> None:
            nonlocal merged
            rng = random.Random(seed)
            with server.client(timeout=300) as http:
                for edit in range(edits):
                    slug = f"shared-{rng.randrange(articles)}"
                    data = http.get(f"/api/v1/articles/{slug}").json()
                    claim = rng.randrange(len(data["lead"][0]["claims"]))
                    data["lead"][0]["claims"][claim]["text"] = f"Client {seed} edit {edit}. "
                    response = http.put(f"/api/v1/articles/{slug}", content=json.dumps(data),
                                        params={"merge": "true", "message": f"client {seed} edit {edit}"},
                                        headers={"Content-Type": "application/json",
                                                 "If-Match": f'W/"{data["revision"]}"'})
                    with lock:
                        statuses[response.status_code] += 1
                        if response.status_code in (200, 201):
                            body = response.json()
                            saved.append((slug, body["revision"]))
                            merged += body["status"] == "merged"
                        elif response.status_code in (409, 412):
                            if not response.json()["error"].get("current"):
                                bad_answers.append(response.text[:200])
                        else:
                            bad_answers.append(f"{response.status_code} {response.text[:200]}")

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    with Wiki.open(root) as wiki:
        histories = {f"shared-{i}": {r.id for r in wiki.history(f"shared-{i}")} for i in range(articles)}
    lost = [(slug, rev) for slug, rev in saved if rev not in histories[slug]]
    ok = statuses[200] + statuses[201]
    return {
        "clients": clients, "edits_each": edits, "articles": articles, "workers": workers,
        "statuses": dict(sorted(statuses.items())), "lost_updates": len(lost),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "answers_without_current": len(bad_answers), "examples": bad_answers[:3],
        "merged": merged, "merge_rate": round(merged / ok, 3) if ok else 0.0,
        "seconds": round(elapsed, 1), "edits_per_s": round(clients * edits / elapsed, 1),
        "commits": sum(len(h) for h in histories.values()) - articles,
    }


def _hammer(server_url: str, paths: list[str], clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = Counter[int]()
    lock = threading.Lock()
    chunks = [paths[i::clients] for i in range(clients)]

    def client(mine: list[str]) -> None:
        local = []
        with httpx.Client(base_url=server_url, trust_env=False, timeout=300) as http:
            for path in mine:
                start = time.perf_counter()
                response = http.get(path)
                local.append(time.perf_counter() - start)
                if response.status_code != 200:
                    with lock:
                        errors[response.status_code] += 1
        with lock:
            latencies.extend(local)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "requests_per_s": round(len(ms) / elapsed, 1),
            "non_200": dict(errors)}


def _cpu_ms(pid: int) -> float:
    """CPU time of a process and of the children it has waited for (its git processes), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) * 1000 / os.sysconf("SC_CLK_TCK")


def bench_changes(root: Path, starts: int, log_dir: Path) -> dict[str, Any]:
    """The first ``/changes`` and the first ``/changes.atom`` after each of ``starts`` fresh server starts.

    Each start is a new ``--workers 1`` process (no answer cached in memory; the wiki's files as they are),
    answering ``/changes`` first and ``/changes.atom`` second, then (another start) the feed first. Wall
    time from the client, CPU time of the server and its git processes (10 ms resolution).
    """
    import httpx

    def timed(http: httpx.Client, pid: int, path: str) -> tuple[float, float]:
        cpu, start = _cpu_ms(pid), time.perf_counter()
        answer = http.get(path)
        wall = (time.perf_counter() - start) * 1000
        assert answer.status_code == 200, answer.text
        return round(wall, 1), round(_cpu_ms(pid) - cpu, 1)

    first, atom_after, atom_first, warm, after_save = [], [], [], [], []
    rng = random.Random(11)
    with Wiki.open(root) as wiki:
        articles = len(wiki.list())
    for n in range(starts):
        with serving(root, "--workers", "1", log_dir=log_dir) as server, \
                httpx.Client(base_url=server.url, trust_env=False, timeout=600) as http:
            first.append(timed(http, server.process.pid, "/api/v1/changes"))
            atom_after.append(timed(http, server.process.pid, "/api/v1/changes.atom"))
            warm += [timed(http, server.process.pid, "/api/v1/changes")[0] for _ in range(5)]
            # A save by another process moves the tip: one new change to look up and summarise.
            slug = f"article-{rng.randrange(articles):06d}"
            with Wiki.open(root) as wiki:
                latest = wiki.latest(slug)
                assert latest is not None
                edited = wiki.load(slug).model_copy(update={"title": f"Changes bench {n} {time.time()}"})
                wiki.save(edited, f"changes bench edit {n}", base=latest.id)
            after_save.append(timed(http, server.process.pid, "/api/v1/changes"))
        with serving(root, "--workers", "1", log_dir=log_dir) as server, \
                httpx.Client(base_url=server.url, trust_env=False, timeout=600) as http:
            atom_first.append(timed(http, server.process.pid, "/api/v1/changes.atom"))
    return {"starts": starts, "first_changes_ms_wall_cpu": first, "atom_after_changes_ms_wall_cpu": atom_after,
            "first_atom_ms_wall_cpu": atom_first, "warm_median_ms": round(statistics.median(warm), 2),
            "after_save_ms_wall_cpu": after_save,
            "first_changes_median_ms": statistics.median(w for w, _ in first)}


def bench_reads(tmp: Path, articles: int, revisions: int, requests: int, clients: int) -> dict[str, Any]:
    root = tmp / "reads"
    started = time.monotonic()
    wiki = build_wiki(root, articles, LAYOUT_SHARDED, revisions=revisions)
    # The commit-graph with changed-path filters and the changelog, as the store keeps them after saves.
    wiki.maintain()
    wiki.close()
    built = time.monotonic() - started
    rng = random.Random(7)
    paths = [f"/api/v1/articles/article-{rng.randrange(articles):06d}" for _ in range(requests)]
    result: dict[str, Any] = {"articles": articles, "revisions": revisions, "build_s": round(built, 1),
                              "clients": clients}
    for workers in (1, 2):
        with serving(root, "--workers", str(workers), log_dir=tmp) as server:
            import httpx

            with httpx.Client(base_url=server.url, trust_env=False, timeout=600) as http:
                start = time.perf_counter()
                first = http.get("/api/v1/changes")
                changes_cold = (time.perf_counter() - start) * 1000
                assert first.status_code == 200, first.text
                warm = []
                for _ in range(20):
                    start = time.perf_counter()
                    http.get("/api/v1/changes")
                    warm.append((time.perf_counter() - start) * 1000)
                # A save moves the tip: the next answer is cold again, with one new change to summarise.
                after_save = []
                for n in range(3):
                    slug = f"article-{rng.randrange(articles):06d}"
                    with Wiki.open(root) as wiki:
                        latest = wiki.latest(slug)
                        assert latest is not None
                        edited = wiki.load(slug).model_copy(update={"title": f"Edited {workers} {n}"})
                        wiki.save(edited, f"bench edit {workers} {n}", base=latest.id)
                    start = time.perf_counter()
                    answer = http.get("/api/v1/changes")
                    after_save.append((time.perf_counter() - start) * 1000)
                    assert answer.json()["changes"][0]["message"] == f"bench edit {workers} {n}"
                # The first read starts the table of latest revisions (one history walk, in the background);
                # until it is built, reads ask git per article. Both are measured: cold, then steady.
                start = time.perf_counter()
                http.get(paths[0])
                first_read = (time.perf_counter() - start) * 1000
            cold = _hammer(server.url, paths[: requests // 4], clients)
            steady = _hammer(server.url, paths, clients)
            static_run = _hammer(server.url, ["/robots.txt"] * requests, clients)
        result[f"workers_{workers}"] = {
            "first_read_ms": round(first_read, 1), "article_cold": cold, "article": steady, "static": static_run,
            "changes_cold_ms": round(changes_cold, 1), "changes_warm_median_ms": round(statistics.median(warm), 2),
            "changes_after_save_ms": [round(x, 1) for x in after_save],
        }
    return result


def _print_changes(run: dict[str, Any]) -> None:
    print(f"/changes over {run['starts']} fresh starts (--workers 1; wall, server CPU ms): "
          f"first {run['first_changes_ms_wall_cpu']}, then .atom {run['atom_after_changes_ms_wall_cpu']}; "
          f".atom first {run['first_atom_ms_wall_cpu']}; warm median {run['warm_median_ms']} ms; "
          f"after a save {run['after_save_ms_wall_cpu']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[], choices=["start", "load", "reads", "changes"])
    parser.add_argument("--wiki", type=Path, help="measure only /changes over fresh starts, on this built wiki")
    parser.add_argument("--starts", type=int, default=3, help="fresh server starts for the /changes figures")
    args = parser.parse_args()
    articles, revisions = (500, 2_000) if args.quick else (args.articles, args.revisions)
    results: dict[str, Any] = {"targets": TARGETS}
    if args.wiki is not None:
        with tempfile.TemporaryDirectory(prefix="wikicore-bench-serve-") as name:
            results["changes"] = bench_changes(args.wiki, args.starts, Path(name))
        _print_changes(results["changes"])
        write_results("serve", results)
        return
    with tempfile.TemporaryDirectory(prefix="wikicore-bench-serve-") as name:
        tmp = Path(name)
        if "start" not in args.skip:
            results["start"] = bench_start(tmp, 3)
            print(f"start: first answer after {results['start']['median_s']} s (median of 3)", flush=True)
        if "load" not in args.skip:
            load = bench_load(tmp, 10 if args.quick else 50, 5 if args.quick else 20, 10, 2)
            results["load"] = load
            print(f"load: {load['clients']} clients x {load['edits_each']} edits, statuses {load['statuses']}, "
                  f"lost {load['lost_updates']}, 5xx {load['server_errors']}, merge rate {load['merge_rate']}, "
                  f"{load['edits_per_s']} edits/s", flush=True)
        if "reads" not in args.skip:
            reads = bench_reads(tmp, articles, revisions, 640 if args.quick else 3_200, 32)
            results["reads"] = reads
            if "changes" not in args.skip:
                results["changes"] = bench_changes(tmp / "reads", args.starts, tmp)
                _print_changes(results["changes"])
            print(f"reads at {articles:,} articles / {revisions:,} revisions (built in {reads['build_s']} s):")
            for workers in (1, 2):
                run = reads[f"workers_{workers}"]
                a, c, s = run["article"], run["article_cold"], run["static"]
                print(f"  --workers {workers}: article p50 {a['p50_ms']} ms p95 {a['p95_ms']} ms "
                      f"{a['requests_per_s']} req/s (cold: p50 {c['p50_ms']} p95 {c['p95_ms']}); "
                      f"static p50 {s['p50_ms']} ms p95 {s['p95_ms']} ms {s['requests_per_s']} req/s; "
                      f"/changes cold {run['changes_cold_ms']} ms, warm {run['changes_warm_median_ms']} ms, "
                      f"after a save {run['changes_after_save_ms']} ms",
                      flush=True)
    write_results("serve", results)


if __name__ == "__main__":
    main()
