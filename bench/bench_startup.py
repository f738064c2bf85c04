"""How long `wikicore` takes to start: `--help`, `--version`, `list`, `show`, `history` (target: <= 0.3 s CPU).

Each command is its own process, run N times (hyperfine's way: wall time from outside, medians),
with the CPU time the kernel charged it (user + system, from wait4), which a busy shared machine
disturbs far less than wall time. `--source DIR` times another checkout's package (say, an older
commit unpacked with `git archive REV wikicore | tar -x -C DIR`) against the same wiki, from a
neutral directory so that the current checkout is not on the path.

    .venv/bin/python bench/bench_startup.py --runs 20
    .venv/bin/python bench/bench_startup.py --runs 20 --source /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import write_results

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "000_38cc082d7ed7b8e7.txt"
SLUG = "azerbaijan-russia-relations"


def measure(command: list[str], runs: int, env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Median and minimum wall and CPU milliseconds of ``runs`` runs (after one warm-up run)."""
    walls: list[float] = []
    cpus: list[float] = []
    for index in range(runs + 1):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
        if index:  # the first run writes bytecode caches
            walls.append(wall * 1000)
            cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
    return {
        "wall_median_ms": round(statistics.median(walls), 1),
        "wall_min_ms": round(min(walls), 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
        "cpu_min_ms": round(min(cpus), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--source", type=Path, help="time the wikicore package under this directory instead")
    args = parser.parse_args()
    source = (args.source or ROOT).resolve()
    env = {**os.environ, "PYTHONPATH": str(source), "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        neutral = Path(tmp)
        wiki = neutral / "wiki"
        setup = [sys.executable, "-m", "wikicore", "--wiki", str(wiki)]
        subprocess.run([*setup, "init"], env=env, cwd=neutral, check=True, capture_output=True)
        subprocess.run([*setup, "import", str(SEED), "--from", "text"], env=env, cwd=neutral, check=True,
                       capture_output=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": [sys.executable, "-m", "wikicore", "--help"],
            "--version": [sys.executable, "-m", "wikicore", "--version"],
            "list": [*setup, "list"],
            "show": [*setup, "show", SLUG],
            "history": [*setup, "history", SLUG],
        }
        figures = {}
        for name, command in commands.items():
            figures[name] = measure(command, args.runs, env, neutral)
            f = figures[name]
            print(f"{name:16} wall median {f['wall_median_ms']:6.1f} ms (min {f['wall_min_ms']:6.1f})   "
                  f"cpu median {f['cpu_median_ms']:6.1f} ms (min {f['cpu_min_ms']:6.1f})")
    load = os.getloadavg()
    print(f"load average while measuring: {load[0]:.1f} (2-core machine shared with other work: wall times are noisy)")
    write_results("startup", {"source": str(source), "runs": args.runs, "load_average": load, "figures": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
