"""What the wall rules (wikicore/net/walls.py) find on the real corpus, and what they cost a page.

Run:  .venv/bin/python bench/bench_walls.py       (from the repository root)

The pages are the verdict corpus' real pages (``tests/support/realweb.py``: trafilatura
0.9.3's and htmldate 1.2.0's test caches, fetched from PyPI into the test cache). For each
page: the wall it is judged to be (expected: SCMP's and Là-bas si j'y suis's pages, by reading),
CPU per page of :func:`~wikicore.net.walls.wall_note` (the link checker's note) and of
:func:`~wikicore.net.walls.fetch_wall` beside the text extraction the quote check runs on the
same page (:func:`~wikicore.sources.extract.page_text`). CPU time (``time.process_time``),
median of 7 passes, since the machine is shared. Results go to ``bench/results/walls-*.json``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_results  # noqa: E402
from tests.support.realweb import labels, page  # noqa: E402
from wikicore.net import Fetch  # noqa: E402
from wikicore.net.walls import fetch_wall, wall_note  # noqa: E402
from wikicore.sources.extract import page_text  # noqa: E402

PASSES = 7


def _cpu_per_page(run: Callable[[], object], pages: int) -> float:
    """Median CPU milliseconds a page over :data:`PASSES` passes of ``run`` (one pass reads every page)."""
    times = []
    for _ in range(PASSES):
        start = time.process_time()
        run()
        times.append((time.process_time() - start) * 1000 / pages)
    return statistics.median(times)


def main() -> None:
    named = [(label.name, page(label)) for label in labels() if label.source in ("trafilatura", "htmldate")]
    url = "https://example.org/a/page.html"
    fetches = [
        (name, Fetch(url, "GET", 200, url, (), {}, body, len(body), False, None, None, 1, 0.0)) for name, body in named
    ]
    walls = {name: str(kind) for name, fetch in fetches if (kind := fetch_wall(fetch)) is not None}
    note = _cpu_per_page(lambda: [wall_note(fetch) for _, fetch in fetches], len(fetches))
    wall = _cpu_per_page(lambda: [fetch_wall(fetch) for _, fetch in fetches], len(fetches))
    text = _cpu_per_page(lambda: [page_text(body, "text/html") for _, body in named], len(named))
    print(f"{len(named)} real pages; walls: {walls}")
    print("| step | CPU ms a page (median of 7) |\n| --- | --- |")
    print(f"| wall_note (link checker) | {note:.2f} |\n| fetch_wall (quote check) | {wall:.2f} |")
    print(f"| page_text (quote check's extraction, for scale) | {text:.2f} |")
    write_results("walls", {"pages": len(named), "walls": walls, "wall_note_ms": note, "fetch_wall_ms": wall,
                            "page_text_ms": text})


if __name__ == "__main__":
    main()
