"""Live-check speed and memory, beside lychee and LinkChecker: the tools a wiki would otherwise use.

Run:  .venv/bin/python bench/bench_links.py [--refs 2000] [--repeat 1]

Scenarios, each against the hostile little web served by a separate process
(``python -m tests.servers.hostile_web``, run from the repository root) so no tool shares a GIL with the server:

1. ``polite``: REFS references over 40 loopback hosts (127.0.0.1-40) with
   100-300 ms of added latency, politeness on. wikicore with its defaults
   (2 per host, 0.25 s apart) and with lychee's politeness (10 per host, 50 ms
   apart), against lychee 0.24.2 with its defaults.
2. ``unlocked``: REFS references on one host, no latency, limits lifted, against
   lychee (128 concurrent, no per-host limit or interval) and LinkChecker 10.6.0
   (100 threads, no robots.txt, no rate limit).

wikicore has one engine, aiohttp on one event loop; the figures that chose it
over requests in a thread pool come from ``bench_engines.py`` (the bare clients,
no checker around them), which can be rerun whenever the question comes back.
3. ``memory``: peak RSS of a wikicore process checking 1k, 4k and 16k references.

Every tool runs as its own process and is timed from the outside (start-up
included). Results print as a table and go to ``bench/results/links-*.json``.
lychee and LinkChecker come with the ``bench`` extra; a tool that is not
installed gets a row saying so, and the wikicore rows still run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from results_file import write_results

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Run:
    scenario: str
    tool: str
    settings: str
    refs: int
    seconds: float
    ok: int
    note: str = ""


# --- the server -----------------------------------------------------------------------


class Server:
    """``python -m tests.servers.hostile_web`` in a child process (its cwd, the repository root, is on its path)."""

    def __init__(self, hosts: int, latency: str = "") -> None:
        args = [sys.executable, "-m", "tests.servers.hostile_web", "--port", "0", "--hosts", str(hosts)]
        # LinkChecker lifts its per-host wait (0.1-0.6 s a request) only for servers sending this header.
        args += ["--header", "LinkChecker:unlocked"]
        if latency:
            args += ["--latency", latency]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.bases = [u.rstrip("/") for u in self.proc.stdout.readline().split()]
        self._tags: dict[str, int] = {}

    def urls(self, n: int, tag: str) -> list[str]:
        # Interleaved over hosts, as references in a wiki are; distinct per run (a numeric
        # prefix per tag) so no tool gets a cache hit.
        prefix = self._tags.setdefault(tag, len(self._tags) + 1)
        return [f"{self.bases[i % len(self.bases)]}/p/{prefix}{i:07d}" for i in range(n)]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- the tools --------------------------------------------------------------------------


def timed(args: list[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    if not Path(args[0]).exists():  # lychee or LinkChecker without the bench extra: a row that says so
        return 0.0, subprocess.CompletedProcess(args, 127, "", f"{Path(args[0]).name} is not installed")
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started, done


def _note(done: subprocess.CompletedProcess[str]) -> str:
    if done.returncode == 127:
        return done.stderr
    return "" if done.returncode == 0 else f"exit {done.returncode}"


def run_wikicore(urls: list[str], work: Path, **config: object) -> tuple[float, int, str]:
    listing = work / "wikicore-urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    seconds, done = timed(
        [sys.executable, str(Path(__file__)), "--child-check", str(listing), "--config", json.dumps(config)]
    )
    if done.returncode:
        raise SystemExit(f"wikicore child failed:\n{done.stderr}")
    report = json.loads(done.stdout)
    note = f"peak RSS {report['maxrss_mb']:.0f} MB, checking alone {report['checking_s']:.2f} s"
    return seconds, report["statuses"].get("live", 0), note


def run_lychee(urls: list[str], work: Path, *extra: str) -> tuple[float, int, str]:
    listing = work / "lychee-urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    seconds, done = timed([str(BIN / "lychee"), "--no-progress", "--format", "json", *extra, str(listing)])
    try:
        report = json.loads(done.stdout)
        ok = int(report.get("successful", 0))
    except json.JSONDecodeError:
        ok = 0
    return seconds, ok, _note(done)


def run_linkchecker(urls: list[str], work: Path) -> tuple[float, int, str]:
    config = work / "linkcheckerrc"
    config.write_text("[checking]\nthreads=100\nmaxrequestspersecond=1000000\n[filtering]\ncheckextern=1\n")
    env = {**os.environ, "HOME": str(work), "XDG_CONFIG_HOME": str(work), "XDG_DATA_HOME": str(work)}
    seconds, done = timed(
        [
            str(BIN / "linkchecker"), "-f", str(config), "--stdin", "--no-robots", "--check-extern", "-t", "100",
            "--no-status", "-v", "-o", "csv",
        ],
        input="\n".join(urls) + "\n",
        env=env,
    )
    rows = [line for line in done.stdout.splitlines() if line and not line.startswith("#")]
    ok = sum(1 for line in rows[1:] if line.split(";")[6:7] == ["True"])
    return seconds, ok, _note(done)


# --- the child that runs wikicore --------------------------------------------------------


def child_check(listing: Path, config_json: str) -> int:
    from wikicore.links import check_urls
    from wikicore.net import CheckConfig

    config = CheckConfig(allow_private=True, **json.loads(config_json))
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    with listing.open() as lines:  # streamed: memory must not grow with the number of references
        for result in check_urls((line.strip() for line in lines if line.strip()), config):
            statuses[str(result.status)] += 1
    checking = time.perf_counter() - started
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps({"statuses": statuses, "maxrss_mb": maxrss, "checking_s": checking}) + "\n")
    return 0


# --- scenarios ---------------------------------------------------------------------------------


def bench(refs: int, repeat: int, only: str = "") -> list[Run]:
    runs: list[Run] = []
    work = Path(tempfile.mkdtemp(prefix="wikicore-bench-"))
    work.chmod(0o755)  # LinkChecker drops root privileges to nobody and must still read its config
    try:
        polite = Server(40, "100-300")
        try:
            for r in range(repeat if only in ("", "polite") else 0):
                tag = f"a{r}x"
                s, ok, note = run_lychee(polite.urls(refs, tag + "l"), work)
                runs.append(Run("polite", "lychee 0.24.2", "defaults (10/host, 50 ms, 128 total)", refs, s, ok, note))
                s, ok, note = run_wikicore(polite.urls(refs, tag + "w"), work)
                runs.append(Run("polite", "wikicore", "defaults (2/host, 250 ms, 32 total)", refs, s, ok, note))
                s, ok, note = run_wikicore(
                    polite.urls(refs, tag + "a"), work, per_host=10, host_interval=0.05, concurrency=128,
                )
                runs.append(Run("polite", "wikicore async", "lychee's politeness (10/host, 50 ms, 128)", refs,
                                s, ok, note))
        finally:
            polite.close()

        one = Server(1)
        try:
            for r in range(repeat if only in ("", "unlocked") else 0):
                tag = f"b{r}x"
                s, ok, note = run_lychee(
                    one.urls(refs, tag + "l"), work,
                    "--max-concurrency", "128", "--host-concurrency", "128", "--host-request-interval", "0ms",
                )
                runs.append(Run("unlocked", "lychee 0.24.2", "128 concurrent, no host limits", refs, s, ok, note))
                s, ok, note = run_wikicore(
                    one.urls(refs, f"{tag}a"), work, per_host=128, host_interval=0.0, concurrency=128,
                )
                runs.append(Run("unlocked", "wikicore async", "128 in flight, no host limits", refs, s, ok, note))
                s, ok, note = run_linkchecker(one.urls(refs, tag + "k"), work)
                runs.append(Run("unlocked", "LinkChecker 10.6.0", "100 threads, no robots, no rate limit", refs, s,
                                ok, note))
        finally:
            one.close()
        one = Server(1)
        try:
            for n in (1000, 4000, 16000) if only in ("", "memory") else ():
                s, ok, note = run_wikicore(
                    one.urls(n, f"m{n}x"), work, per_host=64, host_interval=0.0, concurrency=64
                )
                runs.append(Run("memory", "wikicore async", "64 in flight, no host limits", n, s, ok, note))
        finally:
            one.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return runs


def summary(runs: list[Run]) -> list[Run]:
    """One row per (scenario, tool, settings, refs): the median time, the worst ok count."""
    groups: dict[tuple[str, str, str, int], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.scenario, r.tool, r.settings, r.refs), []).append(r)
    rows = []
    for (scenario, tool, settings, refs), group in groups.items():
        times = sorted(r.seconds for r in group)
        note = " ".join(sorted({r.note for r in group if r.note}))
        if len(times) > 1:
            note = f"runs {', '.join(f'{t:.2f}' for t in times)}; {note}"
        rows.append(Run(scenario, tool, settings, refs, statistics.median(times), min(r.ok for r in group), note))
    return rows


def table(runs: list[Run]) -> str:
    lines = [f"{'scenario':9} {'tool':19} {'settings':43} {'refs':>5} {'median s':>8} {'ok':>5}  note"]
    for r in runs:
        lines.append(
            f"{r.scenario:9} {r.tool:19} {r.settings:43} {r.refs:5d} {r.seconds:8.2f} {r.ok:5d}  {r.note}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", choices=["polite", "unlocked", "memory"], default="")
    parser.add_argument("--child-check", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_check:
        return child_check(args.child_check, args.config)
    runs = bench(args.refs, args.repeat, args.only)
    rows = summary(runs)
    sys.stdout.write(table(rows) + "\n")
    write_results("links", {"summary": [asdict(r) for r in rows], "runs": [asdict(r) for r in runs]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
