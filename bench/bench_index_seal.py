#!/usr/bin/env python3
"""What verifying the sealed collision index costs, next to the saves it guards.

A collision check verifies the header and the two buckets of rows that can hold
its answer (:mod:`wikicore.store.indexseal`); a bulk import and ``check-index``
verify the whole table. This measures, on wikis of 10,000 and 100,000 articles
built with ``git fast-import`` (as ``bench_store.py --scale`` builds them):

* ``verify all``: :meth:`CollisionIndex.verify` of the whole table, freshly opened;
* ``check``: :meth:`CollisionIndex.clashes` of a new slug and title, freshly opened
  (the header and two buckets verified, and the answer);
* ``new, fresh``: ``Wiki.open`` + save of a new article (one check);
* ``new, warm``: another new article in the same open wiki;
* ``edit, fresh``: ``Wiki.open`` + an ordinary edit (no check: one sealed row read).

Rounds are interleaved, so a busy machine slows all four alike; wall and CPU time
(this process: the verification is all in it, git's own work is not counted) are
both reported, as medians.

Usage: ``.venv/bin/python bench/bench_index_seal.py [--sizes 10000 100000] [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import build_wiki, small_article  # noqa: E402

from wikicore.models import Article  # noqa: E402
from wikicore.store import LAYOUT_SHARDED, Wiki  # noqa: E402
from wikicore.store.index import CollisionIndex  # noqa: E402


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _edited(wiki: Wiki, slug: str, n: int) -> tuple[Article, str | None]:
    data = wiki.load(slug).model_dump(exclude_defaults=True)
    data["lead"][0]["claims"][0]["text"] += f"Edit {n}. "
    latest = wiki.latest(slug)
    return Article.model_validate(data), latest.id if latest else None


def _round(path: Path, state_dir: Path, articles: int, n: int) -> dict[str, tuple[float, float]]:
    """One round of the four measurements (see the module doc)."""
    times: dict[str, tuple[float, float]] = {}
    index = CollisionIndex(state_dir / "index.sqlite")
    times["verify all"] = _timed(index.verify)
    index.close()
    index = CollisionIndex(state_dir / "index.sqlite")
    answers: list[tuple[str | None, str | None]] = []
    times["check"] = _timed(lambda: answers.append(index.clashes(f"new-{n}", f"new {n}", ())))
    assert answers == [(None, None)], answers
    index.close()
    start = time.perf_counter(), time.process_time()
    wiki = Wiki.open(path)
    wiki.save(small_article(f"new-{n}"), f"new {n}")
    times["new, fresh"] = ((time.perf_counter() - start[0]) * 1000, (time.process_time() - start[1]) * 1000)
    times["new, warm"] = _timed(lambda: wiki.save(small_article(f"newer-{n}"), f"newer {n}"))
    article, base = _edited(wiki, f"article-{(n * 7919) % articles:06d}", n)
    wiki.close()
    start = time.perf_counter(), time.process_time()
    with Wiki.open(path) as again:
        again.save(article, f"edit {n}", base=base)
    times["edit, fresh"] = ((time.perf_counter() - start[0]) * 1000, (time.process_time() - start[1]) * 1000)
    return times


def bench(tmp: Path, articles: int, rounds: int) -> dict[str, tuple[float, float]]:
    wiki = build_wiki(tmp / f"seal-{articles}", articles, LAYOUT_SHARDED)
    wiki.save(small_article("warm-up"), "warm up: builds and seals the collision index")
    path, state_dir = wiki.path, wiki.state_dir
    wiki.close()
    runs = [_round(path, state_dir, articles, n) for n in range(rounds)]
    return {name: (statistics.median(run[name][0] for run in runs), statistics.median(run[name][1] for run in runs))
            for name in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-seal-") as tmp:
        for articles in args.sizes:
            results = bench(Path(tmp), articles, args.rounds)
            for name, (wall, cpu) in results.items():
                print(f"{articles:>7,} articles  {name:<12} wall {wall:8.1f} ms  cpu {cpu:8.1f} ms "
                      f"(median of {args.rounds})", flush=True)


if __name__ == "__main__":
    main()
