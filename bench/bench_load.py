#!/usr/bin/env python3
"""Loading speed of stored articles, and what it decides: ``diff`` and ``blame`` of big histories.

Measures, against the targets for a 5,000-claim article and a 1,000-revision history:

* ``loads`` of a 5,000-claim article (about 1 MB of YAML), strict, validated (target >= 5 MB/s),
  beside PyYAML's own ``CSafeLoader`` (not strict: resolves YAML 1.1, follows aliases) for scale;
* ``wikicore diff`` of two revisions of that article, end to end through the CLI in a fresh
  process (target <= 0.5 s), and ``Wiki.diff`` in the library;
* ``blame`` of an article with 1,000 revisions: cold (no cache) and repeated (target <= 5 s cold,
  <= 0.5 s repeated), in the library and through the CLI.

Usage: ``.venv/bin/python bench/bench_load.py [--quick]``. Prints a table and writes JSON to
``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from bench_store import big_article, edited, fast_import, small_article  # noqa: E402
from results_file import write_results  # noqa: E402

from wikicore.serialize import dumps, loads  # noqa: E402
from wikicore.store import Wiki  # noqa: E402

WIKICORE = [sys.executable, "-m", "wikicore"]


def timed(func: Callable[[], Any], repeat: int) -> list[float]:
    """Wall seconds of each of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def cpu_timed(func: Callable[[], Any], repeat: int) -> list[float]:
    """CPU seconds (user + system, this process and the children it waited for) of each call.

    On a shared machine wall time mostly measures the queue for a core; CPU time
    measures our work.
    """
    out = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        func()
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        out.append(sum(a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime for a, b in zip(after, before, strict=True)))
    return out


def bench_load(repeat: int) -> dict[str, Any]:
    text = dumps(big_article("big", claims=5000))
    megabytes = len(text.encode()) / 1e6
    ours = statistics.median(timed(lambda: loads(text), repeat))
    ours_cpu = statistics.median(cpu_timed(lambda: loads(text), repeat))
    pyyaml = statistics.median(timed(lambda: yaml.load(text, Loader=yaml.CSafeLoader), repeat))
    return {"bytes": len(text.encode()), "loads_s": round(ours, 4), "loads_mb_s": round(megabytes / ours, 2),
            "loads_cpu_mb_s": round(megabytes / ours_cpu, 2),
            "pyyaml_csafe_load_s": round(pyyaml, 4), "pyyaml_csafe_mb_s": round(megabytes / pyyaml, 2)}


def bench_diff(tmp: Path, repeat: int) -> dict[str, Any]:
    old = big_article("big", claims=5000)
    wiki = Wiki.init(tmp / "wikidiff")
    wiki.save(old, "big article")
    wiki.save(edited(old), "review edit", base=wiki.latest("big").id)  # type: ignore[union-attr]
    library = statistics.median(timed(lambda: wiki.diff("big"), repeat))
    wiki.close()
    env = {**os.environ, "NO_COLOR": "1"}

    def cli() -> None:
        subprocess.run([*WIKICORE, "--wiki", str(tmp / "wikidiff"), "diff", "big"], check=True,
                       stdout=subprocess.DEVNULL, env=env)

    end_to_end = statistics.median(timed(cli, repeat))
    end_to_end_cpu = statistics.median(cpu_timed(cli, repeat))
    startup = statistics.median(timed(lambda: subprocess.run([*WIKICORE, "--help"], check=True,
                                                             stdout=subprocess.DEVNULL), repeat))
    return {"library_s": round(library, 4), "cli_s": round(end_to_end, 4), "cli_cpu_s": round(end_to_end_cpu, 4),
            "cli_help_s": round(startup, 4)}


def bench_blame(tmp: Path, revisions: int, claims: int) -> dict[str, Any]:
    base = small_article("blamed", n=claims)
    text = dumps(base)
    commits = []
    for r in range(revisions):
        files = {"articles/blamed.yaml": text.replace(f"Claim {r % claims} ", f"Claim {r % claims} rev {r} ", 1)}
        files[f"articles/other-{r % 20}.yaml"] = dumps(small_article(f"other-{r % 20}")).replace(
            "Claim 1 ", f"Claim 1 rev {r} ")
        commits.append((f"revision {r}", files))
        text = files["articles/blamed.yaml"]
    path = tmp / "wikiblame"
    wiki = Wiki.init(path)
    fast_import(wiki.path, commits)
    wiki.close()

    def library() -> None:
        with Wiki.open(path) as w:
            w.blame("blamed")

    def clear_cache() -> None:
        shutil.rmtree(path / ".wikicore" / "cache", ignore_errors=True)

    clear_cache()
    cold = timed(library, 1)[0]
    warm = statistics.median(timed(library, 3))
    clear_cache()
    cold_cpu = cpu_timed(library, 1)[0]
    warm_cpu = statistics.median(cpu_timed(library, 3))
    clear_cache()

    def cli() -> None:
        subprocess.run([*WIKICORE, "--wiki", str(path), "blame", "blamed"], check=True, stdout=subprocess.DEVNULL)

    cli_cold = timed(cli, 1)[0]
    cli_warm = statistics.median(timed(cli, 3))
    return {"revisions": revisions, "claims": claims, "bytes": len(text.encode()),
            "library_cold_s": round(cold, 3), "library_repeated_s": round(warm, 3),
            "library_cold_cpu_s": round(cold_cpu, 3), "library_repeated_cpu_s": round(warm_cpu, 3),
            "cli_cold_s": round(cli_cold, 3), "cli_repeated_s": round(cli_warm, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 200 revisions")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results = {
            "load": bench_load(repeat),
            "diff": bench_diff(tmp, repeat),
            "blame": bench_blame(tmp, 200 if args.quick else 1000, 100),
        }
    load, diff, blame = results["load"], results["diff"], results["blame"]
    print(f"{'work':58} {'wall':>12} {'cpu':>12} target")
    print(f"{'loads, 5,000-claim article (' + format(load['bytes'], ',') + ' bytes)':58} "
          f"{load['loads_mb_s']:>7} MB/s {load['loads_cpu_mb_s']:>7} MB/s >= 5 MB/s")
    print(f"{'  PyYAML CSafeLoader, not strict (for scale)':58} {load['pyyaml_csafe_mb_s']:>7} MB/s")
    print(f"{'wikicore diff of two 5,000-claim revisions (CLI, cold)':58} {diff['cli_s']:>9} s "
          f"{diff['cli_cpu_s']:>9} s <= 0.5 s")
    print(f"{'  Wiki.diff in the library':58} {diff['library_s']:>9} s")
    print(f"{'  wikicore --help (process start)':58} {diff['cli_help_s']:>9} s")
    label = f"blame, {blame['revisions']:,} revisions of {blame['claims']} claims"
    print(f"{label + ', library, cold':58} {blame['library_cold_s']:>9} s {blame['library_cold_cpu_s']:>9} s <= 5 s")
    print(f"{label + ', library, repeated':58} {blame['library_repeated_s']:>9} s "
          f"{blame['library_repeated_cpu_s']:>9} s <= 0.5 s")
    print(f"{label + ', CLI, cold':58} {blame['cli_cold_s']:>9} s")
    print(f"{label + ', CLI, repeated':58} {blame['cli_repeated_s']:>9} s")
    write_results("load", results)


if __name__ == "__main__":
    main()
