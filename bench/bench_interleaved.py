#!/usr/bin/env python3
"""One `wikicore` command under two checkouts, run by run in turn: median wall and CPU of each.

On a shared machine the load changes from minute to minute, so a "before" measured at one time and
an "after" at another compare the load as much as the code. This runs them interleaved, each run
in a fresh process with bytecode caches written (as an installed package has them), and reports
wall time and the CPU time the kernel charged (user + system, git's included, from ``wait4``).
``--fresh-wiki DIR`` makes a new empty wiki at DIR before every run (for ``import``).

    .venv/bin/python bench/bench_interleaved.py --before /tmp/before --after . --runs 10 -- \\
        --wiki /tmp/w diff big latest~1 latest
    .venv/bin/python bench/bench_interleaved.py --before /tmp/before --after . --runs 6 \\
        --fresh-wiki /tmp/bulk -- --wiki /tmp/bulk import /tmp/files

``--before`` is another checkout's root (``git worktree add``, or ``git archive REV | tar -x``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(source: Path, args: list[str], fresh: Path | None, neutral: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -m wikicore ARGS`` with ``source`` first on the path.

    Run from ``neutral``, an empty directory: ``-m`` puts the working directory first on the
    path, so from a checkout every run would time that checkout's package.
    """
    env = {**os.environ, "PYTHONPATH": str(source), "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "wikicore"]
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
        subprocess.run([*command, "--wiki", str(fresh), "init"], env=env, check=True, capture_output=True,
                       cwd=neutral)
    start = time.perf_counter()
    process = subprocess.Popen([*command, *args], stdout=subprocess.DEVNULL, env=env, cwd=neutral)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{source}: wikicore {' '.join(args)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--fresh-wiki", type=Path)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    sources = {"before": options.before.resolve(), "after": options.after.resolve()}
    walls: dict[str, list[float]] = {name: [] for name in sources}
    cpus: dict[str, list[float]] = {name: [] for name in sources}
    neutral = Path(tempfile.mkdtemp(prefix="bench-interleaved-"))
    for index in range(options.runs + 1):
        for name, source in sources.items():
            wall, cpu = run_once(source, args, options.fresh_wiki, neutral)
            if index:  # the first run writes bytecode caches
                walls[name].append(wall)
                cpus[name].append(cpu)
    for name in sources:
        print(f"{name:7} wall median {statistics.median(walls[name]):.3f} s (best {min(walls[name]):.3f})   "
              f"cpu median {statistics.median(cpus[name]):.3f} s (best {min(cpus[name]):.3f})")
    neutral.rmdir()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
