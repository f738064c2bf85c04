#!/usr/bin/env python3
"""``wikicore audit --all --offline`` at 1k, 2k, 4k and 8k articles: it must grow linearly.

Each wiki is built fast with ``git fast-import``: one commit bringing in every article,
then 200 commits that each edit a few articles (as in the measurement that found the
quadratic growth, 201 commits of history). Articles have three claims, two references
and see-also titles naming other articles (some missing), so every static check, the
see-also one included, has work to do. Each size is timed through the CLI in a fresh process,
median of ``--repeat`` runs, in wall time and in CPU time (user + system of the CLI
and its git children: far less disturbed by a busy shared machine than wall time);
the growth ratio is each size's median over the one before it (target: <= 2.2 per
doubling, 8k <= 2x 4k).

Usage: ``.venv/bin/python bench/bench_audit_all.py [--sizes 1000,2000,4000,8000] [--repeat 3]``.
Prints a table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import fast_import  # noqa: E402
from results_file import write_results  # noqa: E402

from wikicore.models import Article  # noqa: E402
from wikicore.serialize import dumps  # noqa: E402
from wikicore.store import Wiki  # noqa: E402

HISTORY_COMMITS = 200


def article_text(i: int, size: int, rng: random.Random, revision: int = 0) -> str:
    slug = f"article-{i:05d}"
    see_also = [f"Article {rng.randrange(size):05d}" for _ in range(2)] + [f"Missing {i}"]
    return dumps(Article.model_validate({
        "slug": slug,
        "title": f"Article {i:05d}",
        "aliases": [f"Alias {i:05d}"],
        "lead": [{"claims": [
            {"text": f"Claim {c} of {slug}, revision {revision}, with words to make it realistic. ",
             "citations": [{"ref": f"r{c % 2}"}]} for c in range(3)]}],
        "references": [
            {"id": "r0", "type": "web", "url": f"https://example.org/{slug}", "title": slug,
             "access_date": "2024-01-01"},
            {"id": "r1", "type": "book", "title": f"Book {i}", "isbn": "978-3-16-148410-0"},
        ],
        "see_also": see_also,
    }))


def build(path: Path, size: int) -> None:
    rng = random.Random(size)
    wiki = Wiki.init(path)
    files = {f"articles/article-{i:05d}.yaml": article_text(i, size, rng) for i in range(size)}
    commits = [("Import", files)]
    for r in range(1, HISTORY_COMMITS + 1):
        edits = {}
        for i in rng.sample(range(size), 5):
            edits[f"articles/article-{i:05d}.yaml"] = article_text(i, size, rng, revision=r)
        commits.append((f"edit {r}", edits))
    fast_import(wiki.path, commits)
    assert len(wiki.list()) == size
    wiki.close()


def audit_all(path: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the CLI and its git children) of one audit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "wikicore", "--wiki", str(path), "audit", "--all", "--offline",
         "--format", "json", "--fail-on", "never", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"audit failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,4000,8000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as name:
        for size in sizes:
            path = Path(name) / f"wiki{size}"
            start = time.perf_counter()
            build(path, size)
            built = time.perf_counter() - start
            runs = [audit_all(path) for _ in range(args.repeat)]
            median = statistics.median(wall for wall, _ in runs)
            cpu = statistics.median(used for _, used in runs)
            ratio = median / rows[-1]["median_s"] if rows else None
            cpu_ratio = cpu / rows[-1]["cpu_s"] if rows else None
            rows.append({"articles": size, "commits": HISTORY_COMMITS + 1, "build_s": round(built, 2),
                         "median_s": round(median, 3), "cpu_s": round(cpu, 3),
                         "runs_s": [round(wall, 3) for wall, _ in runs],
                         "growth": round(ratio, 2) if ratio else None,
                         "cpu_growth": round(cpu_ratio, 2) if cpu_ratio else None})
            print(f"{size:>6} articles  wall {median:7.2f} s (x{ratio or 0:4.2f})  cpu {cpu:7.2f} s "
                  f"(x{cpu_ratio or 0:4.2f})  runs {', '.join(f'{w:.2f}' for w, _ in runs)}; "
                  f"built in {built:.1f} s", flush=True)
    write_results("audit_all", {"rows": rows})


if __name__ == "__main__":
    main()
