#!/usr/bin/env python3
"""Wikitext import speed (the target: a 200-page dump imports in seconds; its speed per MB).

Measures, on the ten real Wikipedia articles npm ``wtf_wikipedia@0.8.1`` ships
(fetched at run time into ``$WIKICORE_TEST_CACHE``, never committed):

* import: ``import_wikitext`` per article, best of 3, reported as MB/s of wikitext;
* export: ``export_wikitext`` of the imported articles, MB/s of wikitext written;
* dump: a synthesized 200-page MediaWiki XML dump (the articles repeated under
  new titles, 3 revisions each) imported into a fresh git repository with
  ``import_dump``, latest revisions only and with ``--all-revisions``.

Usage: ``.venv/bin/python bench/bench_wikitext.py [--pages 200]``. Prints a
table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results_file import write_results  # noqa: E402

from wikicore import __version__  # noqa: E402
from wikicore.mediawiki.dumpimport import import_dump  # noqa: E402
from wikicore.mediawiki.exporter import export_wikitext  # noqa: E402
from wikicore.mediawiki.importer import import_wikitext, parse_redirect  # noqa: E402
from wikicore.store import Wiki  # noqa: E402

MB = 1024 * 1024


def real_articles() -> dict[str, str]:
    """The real articles' texts, or exit with a message when the registry is unreachable."""
    import pytest

    from tests.support.npmdata import wtf_articles

    try:
        paths = wtf_articles()
    except pytest.skip.Exception as skip:
        sys.exit(f"cannot fetch the real articles: {skip}")
    texts = {name: path.read_text(encoding="utf-8") for name, path in paths.items()}
    return {name: text for name, text in texts.items() if parse_redirect(text) is None}


def best_of(runs: int, func: object) -> float:
    assert callable(func)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def synthesize_dump(texts: list[str], pages: int, revisions: int) -> str:
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">']
    for number in range(pages):
        text = texts[number % len(texts)]
        out.append(f"<page><title>Article {number}</title><ns>0</ns><id>{number + 1}</id>")
        for rev in range(revisions):
            # Each revision a little longer, as real histories grow.
            body = text[: len(text) * (rev + 1) // revisions]
            out.append(f"<revision><id>{number * 10 + rev}</id><timestamp>2020-01-{rev + 1:02d}T00:00:00Z"
                       f"</timestamp><contributor><username>User {rev}</username></contributor>"
                       f"<comment>rev {rev}</comment><text xml:space=\"preserve\">{escape(body)}</text></revision>")
        out.append("</page>")
    out.append("</mediawiki>")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=3)
    args = parser.parse_args()
    texts = real_articles()
    size = sum(len(t.encode("utf-8")) for t in texts.values())

    import_s = best_of(3, lambda: [import_wikitext(t, title=n) for n, t in texts.items()])
    articles = [import_wikitext(t, title=n) for n, t in texts.items()]
    export_s = best_of(3, lambda: [export_wikitext(a) for a in articles])
    exported = sum(len(export_wikitext(a).encode("utf-8")) for a in articles)

    dump_results = {}
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "dump.xml"
        dump.write_text(synthesize_dump(list(texts.values()), args.pages, args.revisions), encoding="utf-8")
        dump_mb = dump.stat().st_size / MB
        for label, all_revisions in (("latest", False), ("all_revisions", True)):
            repo = Path(tmp) / f"wiki-{label}"
            Wiki.init(repo).close()
            start = time.perf_counter()
            summary = import_dump(dump, repo, all_revisions=all_revisions)
            seconds = time.perf_counter() - start
            dump_results[label] = {
                "seconds": round(seconds, 3), "dump_mb": round(dump_mb, 2),
                "mb_per_s": round(dump_mb / seconds, 2), "pages": summary.pages,
                "revisions": summary.revisions, "commits": summary.commits,
            }

    results = {
        "benchmark": "bench_wikitext",
        "wikicore": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "articles": len(texts),
        "wikitext_mb": round(size / MB, 3),
        "import": {"seconds": round(import_s, 3), "mb_per_s": round(size / MB / import_s, 2)},
        "export": {"seconds": round(export_s, 3), "mb_per_s": round(exported / MB / export_s, 2)},
        "dump": dump_results,
    }
    print(f"real articles: {len(texts)}, {size / MB:.2f} MB of wikitext")
    print(f"  import  {import_s:6.3f} s  {results['import']['mb_per_s']:6.2f} MB/s")  # type: ignore[index]
    print(f"  export  {export_s:6.3f} s  {results['export']['mb_per_s']:6.2f} MB/s")  # type: ignore[index]
    for label, row in dump_results.items():
        print(f"dump {args.pages} pages x {args.revisions} revisions ({row['dump_mb']} MB), {label}: "
              f"{row['seconds']} s, {row['mb_per_s']} MB/s, {row['commits']} commits")
    write_results("bench_wikitext", results)


if __name__ == "__main__":
    main()
