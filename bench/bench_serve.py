#!/usr/bin/env python3
"""Benchmarks of ``wikicore serve`` against its targets (below), on a real uvicorn server on 127.0.0.1.

* start: seconds from starting the server process to its first answer (median of 3; target <= 1.5 s);
* load: 50 concurrent clients each making 20 edits to 10 shared articles (GET, change one random claim,
  PUT with ``If-Match`` and ``?merge=true``) against ``--workers 2``: lost updates (a 2xx revision missing
  from the article's history; target 0), 5xx answers (target 0), every other answer a 409/412 naming the
  current revision, and the merge rate (2xx answers that merged another edit);
* reads: ``GET /api/v1/articles/{slug}`` of random slugs at 10,000 articles under 32 concurrent clients,
  p50 and p95 (targets 10 and 50 ms), requests/s and the server's CPU time per request, beside
  ``GET /robots.txt`` (a static answer through the same guard and uvicorn: the ceiling), measured in
  turns (article, static, article, static, ...) after one pass over every article in order (its first
  two seconds, each read a cache miss, are the cold figure), and the same random reads while another
  process saves one article a second (every save moves the tip);
* changes: ``GET /api/v1/changes`` at 10,000 articles and 100,000 revisions, the first answer after
  start (cold), the median of 20 after it, and the first answer after each of three saves (target 100 ms);
  and, over several fresh starts of ``--workers 1`` (:func:`bench_changes`), the first ``/changes`` and the
  first ``/changes.atom`` of each start, with the server's CPU time beside the wall time. ``--wiki PATH``
  measures only these, on a wiki already built (``build_wiki`` then ``Wiki.maintain``) instead of building one;
  ``--wiki PATH --saving`` only the reads with wrk, quiet and during saves in turns, for ``--workers`` 1 and 2.

The reads are measured with ``wrk`` (C, one thread, 32 connections; a Lua script spreads the requests
over the slugs): a light client, so the figures are the server's. The Python client (32 threads with
httpx, as for every other figure here) is measured after it for comparison: it needs more CPU than the
server it measures and shares the 2 cores with it. Without ``wrk`` on the PATH the bench says so and
gives the Python client's figures only. The output names the client of every figure, and the event loop
and HTTP parser uvicorn picked (uvloop and httptools when installed, from the ``serve`` extra).

Usage: ``.venv/bin/python bench/bench_serve.py [--quick] [--articles N] [--revisions N]``.
Prints a table and writes JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import shutil
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


WRK = shutil.which("wrk")
#: Turns of (article, static) per server: the two figures are taken side by side, interleaved.
TURNS = 3

_WRK_LUA = """
local count, mode, offset = {articles}, "{mode}", {offset}
local i = offset - 1
math.randomseed(7 + offset)
if mode ~= "static" then
  request = function()
    if mode == "sequential" then i = i + 1 else i = math.random(0, count - 1) end
    return wrk.format("GET", string.format("/api/v1/articles/article-%06d", i % count))
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK-JSON {{"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"socket_errors": %d, "non_2xx_3xx": %d}}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def uvicorn_stack() -> dict[str, str]:
    """The event loop and HTTP parser uvicorn's "auto" picks in the server (started with this interpreter)."""
    found = importlib.util.find_spec
    return {"loop": "uvloop" if found("uvloop") else "asyncio", "http": "httptools" if found("httptools") else "h11"}


def _server_cpu_s(session: int) -> float:
    """CPU seconds of every process in the server's session: uvicorn, its workers and their git processes."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session:  # the session id: `serving` starts the server in its own
            total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, tmp: Path, mode: str, articles: int, clients: int, seconds: float, session: int,
         offset: int = 0) -> dict[str, Any]:
    """One ``wrk`` run (``mode``: random or sequential slugs, or static for ``url`` itself) with CPU times."""
    assert WRK is not None
    script = tmp / f"wrk-{mode}.lua"
    script.write_text(_WRK_LUA.format(articles=articles, mode=mode, offset=offset))
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _server_cpu_s(session)
    done = subprocess.run([WRK, "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],
                          capture_output=True, text=True, check=True)
    server_cpu = _server_cpu_s(session) - server_before
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK-JSON "))
    raw = json.loads(line.removeprefix("WRK-JSON "))
    requests = raw["requests"]
    return {
        "requests": requests, "p50_ms": round(raw["p50_us"] / 1000, 2), "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2), "requests_per_s": round(requests / raw["seconds"], 1),
        "errors": raw["socket_errors"] + raw["non_2xx_3xx"],
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_us_per_request": round(server_cpu * 1e6 / requests, 1) if requests else None,
        "client_cpu_s": round(client_after.ru_utime + client_after.ru_stime
                              - client_before.ru_utime - client_before.ru_stime, 2),
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over interleaved runs, with the runs themselves."""
    keys = ("p50_ms", "p95_ms", "p99_ms", "requests_per_s", "server_cpu_us_per_request")
    return {**{k: round(statistics.median(r[k] for r in runs), 2) for k in keys},
            "errors": sum(r["errors"] for r in runs), "runs": runs}


def bench_wrk_reads(url: str, tmp: Path, articles: int, clients: int, seconds: float,
                    session: int) -> dict[str, Any]:
    """Reads with wrk: the first articles read in order (each a cache miss: cold), then article and static in turns.

    Every worker process has its own cache, and which worker answers is the kernel's choice: after one
    pass over every article, random reads go on until their rate stops rising (at most five runs),
    so the measured turns read from full caches.
    """
    cold = _wrk(url, tmp, "sequential", articles, clients, min(seconds, 2.0), session)
    cold["includes_hits"] = cold["requests"] > articles  # the pass wrapped around: a small wiki
    covered = cold["requests"]
    while covered < articles:
        covered += _wrk(url, tmp, "sequential", articles, clients, seconds, session, offset=covered)["requests"]
    warming: list[float] = []
    for run in range(5):
        warming.append(_wrk(url, tmp, "random", articles, clients, seconds, session, offset=1000 + run)
                       ["requests_per_s"])
        if len(warming) > 1 and warming[-1] < warming[-2] * 1.1:
            break
    article, static = [], []
    for turn in range(TURNS):
        article.append(_wrk(url, tmp, "random", articles, clients, seconds, session, offset=turn))
        static.append(_wrk(url + "/robots.txt", tmp, "static", articles, clients, seconds, session))
    return {"client": f"wrk -t1 -c{clients} -d{seconds:g}s", "article_cold": cold, "warming_req_per_s": warming,
            "article": _median_run(article), "static": _median_run(static)}


#: Another process saving one random article a second, as an editor (or the CLI) would while readers read.
_SAVER = """
import os, random, sys, time
from wikicore.store import Wiki
root, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng, saves = random.Random(os.getpid()), 0
with Wiki.open(root) as wiki:
    while True:
        slug = f"article-{rng.randrange(count):06d}"
        latest = wiki.latest(slug)
        edited = wiki.load(slug, latest.id).model_copy(update={"title": f"Saved {os.getpid()} {saves}"})
        wiki.save(edited, f"bench save {saves}", base=latest.id)
        saves += 1
        print(saves, flush=True)
        time.sleep(pause)
"""


def wrk_while_saving(url: str, tmp: Path, root: Path, articles: int, clients: int, seconds: float,
                     session: int, pause: float = 1.0) -> dict[str, Any]:
    """Random reads with wrk while another process saves one article every ``pause`` seconds.

    Each save moves the tip, so this is the read path of a wiki being edited: the figure the
    table of latest revisions must keep (a table thrown away at each save sent every read to git).
    """
    saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(root), str(articles), str(pause)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        run = _wrk(url, tmp, "random", articles, clients, seconds, session, offset=500)
    finally:
        saver.terminate()
        out, err = saver.communicate()
    saves = len(out.split())
    if not saves:
        raise RuntimeError(f"the saving process saved nothing: {err.decode(errors='replace')}")
    return {**run, "saves": saves, "save_every_s": pause}


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


def bench_reads(tmp: Path, articles: int, revisions: int, requests: int, clients: int,
                seconds: float = 10.0) -> dict[str, Any]:
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
                              "clients": clients, "uvicorn": uvicorn_stack()}
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
            if WRK is not None:
                light = bench_wrk_reads(server.url, tmp, articles, clients, seconds, server.process.pid)
                light["article_saving"] = wrk_while_saving(server.url, tmp, root, articles, clients, seconds,
                                                           server.process.pid)
            else:
                light = {"client": "none: wrk is not on the PATH",
                         "article_cold": _hammer(server.url, paths[: requests // 4], clients)}
            # The Python client after wrk (on the cache wrk filled): the figure before wrk was used, for honesty.
            python = {"client": f"Python: {clients} threads with httpx", "article": _hammer(server.url, paths, clients),
                      "static": _hammer(server.url, ["/robots.txt"] * requests, clients)}
        result[f"workers_{workers}"] = {
            "first_read_ms": round(first_read, 1), "wrk": light, "python_client": python,
            "changes_cold_ms": round(changes_cold, 1), "changes_warm_median_ms": round(statistics.median(warm), 2),
            "changes_after_save_ms": [round(x, 1) for x in after_save],
        }
    return result


def bench_saving(root: Path, articles: int, tmp: Path, clients: int, seconds: float) -> dict[str, Any]:
    """On a built wiki: wrk reads, quiet and while another process saves, in turns, for ``--workers`` 1 and 2."""
    if WRK is None:
        raise SystemExit("--saving needs wrk on the PATH")
    found: dict[str, Any] = {"uvicorn": uvicorn_stack(), "clients": clients}
    for workers in (1, 2):
        with serving(root, "--workers", str(workers), log_dir=tmp) as server:
            session = server.process.pid
            covered = 0
            while covered < articles:  # one pass over every article: bodies cached, table built
                covered += _wrk(server.url, tmp, "sequential", articles, clients, seconds, session,
                                offset=covered)["requests"]
            _wrk(server.url, tmp, "random", articles, clients, seconds, session, offset=900)
            quiet, saving = [], []
            for turn in range(TURNS):
                quiet.append(_wrk(server.url, tmp, "random", articles, clients, seconds, session, offset=turn))
                saving.append(wrk_while_saving(server.url, tmp, root, articles, clients, seconds, session))
        found[f"workers_{workers}"] = {"quiet": _median_run(quiet), "saving": _median_run(saving),
                                       "saves": [run["saves"] for run in saving]}
        for label, run in (("quiet", found[f"workers_{workers}"]["quiet"]),
                           ("saving 1/s", found[f"workers_{workers}"]["saving"])):
            print(f"--workers {workers} {label}: p50 {run['p50_ms']} ms p95 {run['p95_ms']} ms p99 {run['p99_ms']} ms "
                  f"{run['requests_per_s']:,} req/s, server CPU {run['server_cpu_us_per_request']} us/request, "
                  f"{run['errors']} errors", flush=True)
    return found


def _print_changes(run: dict[str, Any]) -> None:
    print(f"/changes over {run['starts']} fresh starts (--workers 1; wall, server CPU ms): "
          f"first {run['first_changes_ms_wall_cpu']}, then .atom {run['atom_after_changes_ms_wall_cpu']}; "
          f".atom first {run['first_atom_ms_wall_cpu']}; warm median {run['warm_median_ms']} ms; "
          f"after a save {run['after_save_ms_wall_cpu']}", flush=True)


def print_reads(light: dict[str, Any], python: dict[str, Any]) -> None:
    """The read figures, each with the client that measured it."""
    def line(label: str, run: dict[str, Any]) -> str:
        cpu = run.get("server_cpu_us_per_request")
        errors = run.get("errors") or sum(run.get("non_200", {}).values())
        return (f"{label} p50 {run['p50_ms']} ms p95 {run['p95_ms']} ms {run['requests_per_s']:,} req/s"
                + (f", server CPU {cpu} us/request" if cpu is not None else "")
                + (f", {errors} errors or non-2xx answers" if errors else ""))

    if "article" in light:
        cold = light["article_cold"]
        wrapped = " (the pass wrapped: includes hits)" if cold["includes_hits"] else ""
        print(f"    {light['client']}: {line('article', light['article'])}; {line('static', light['static'])}; "
              f"cold (articles in order, each a miss){wrapped}: p50 {cold['p50_ms']} ms p95 {cold['p95_ms']} ms "
              f"{cold['requests_per_s']:,} req/s", flush=True)
        if "article_saving" in light:
            saving = light["article_saving"]
            print(f"    {light['client']}, another process saving one article every {saving['save_every_s']} s "
                  f"({saving['saves']} saves): {line('article', saving)}", flush=True)
    else:
        print(f"    wrk: not found on the PATH, so only the Python client's figures (cold: "
              f"{line('article', light['article_cold'])})", flush=True)
    print(f"    {python['client']}: {line('article', python['article'])}; {line('static', python['static'])}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[], choices=["start", "load", "reads", "changes"])
    parser.add_argument("--wiki", type=Path, help="measure only /changes over fresh starts, on this built wiki")
    parser.add_argument("--starts", type=int, default=3, help="fresh server starts for the /changes figures")
    parser.add_argument("--saving", action="store_true",
                        help="with --wiki: only reads with wrk, quiet and during saves by another process, in turns")
    args = parser.parse_args()
    articles, revisions = (500, 2_000) if args.quick else (args.articles, args.revisions)
    results: dict[str, Any] = {"targets": TARGETS}
    if args.wiki is not None and args.saving:
        with tempfile.TemporaryDirectory(prefix="wikicore-bench-serve-") as name:
            results["saving"] = bench_saving(args.wiki, articles, Path(name), 32, 3 if args.quick else 10)
        write_results("serve", results)
        return
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
            reads = bench_reads(tmp, articles, revisions, 640 if args.quick else 3_200, 32, 3 if args.quick else 10)
            results["reads"] = reads
            if "changes" not in args.skip:
                results["changes"] = bench_changes(tmp / "reads", args.starts, tmp)
                _print_changes(results["changes"])
            print(f"reads at {articles:,} articles / {revisions:,} revisions (built in {reads['build_s']} s):")
            for workers in (1, 2):
                run = reads[f"workers_{workers}"]
                print(f"  --workers {workers} (uvicorn on {reads['uvicorn']['loop']} with {reads['uvicorn']['http']}):",
                      flush=True)
                print_reads(run["wrk"], run["python_client"])
                print(f"    /changes cold {run['changes_cold_ms']} ms, warm {run['changes_warm_median_ms']} ms, "
                      f"after a save {run['changes_after_save_ms']} ms", flush=True)
    write_results("serve", results)


if __name__ == "__main__":
    main()
