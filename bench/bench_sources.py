#!/usr/bin/env python3
"""Quote checks and content drift on the test bed: accuracy, thresholds, CPU per page, PDF libraries.

Measures, on the bed of ``tests/support/sourcebed.py`` (the real pages of trafilatura
0.9.3's test cache, each with an unchanged, a trimmed, a reworded and a replaced
live copy; fetched at run time into ``$WIKICORE_TEST_CACHE``, never committed):

* **accuracy**: present quotes and their typographic variants found, quotes from
  other pages reported found, edited pages reported ``changed``/``unrelated``,
  unchanged pages reported drifted;
* **thresholds**: the score distributions that set ``FUZZY_THRESHOLD``,
  ``FUZZY_MIN_CHARS`` and ``SAME_MIN``;
* **CPU per page** (``time.process_time``): decode, visible text, trafilatura main
  text, normalisation and matching the page's quotes, median and 90th percentile,
  with trafilatura's settings compared;
* **PDF libraries**: pypdfium2, pypdf and pdfminer.six on pdfminer.six 20181108's
  real sample PDFs: CPU per file and how many lines of pdfminer's own reference
  text each one's page 1 holds (as quotes, through :func:`find_quote`).

Usage: ``.venv/bin/python bench/bench_sources.py``. Prints Markdown tables (the
figures in docs/sources.md) and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402
from results_file import write_results  # noqa: E402

from tests.support.sourcebed import LIVE_TYPE, Outcome, build_bed, evaluate  # noqa: E402
from tests.support.sourcedata import PDFMINER, TRAFILATURA, fetch_pinned  # noqa: E402
from wikicore.sources.charset import decode  # noqa: E402
from wikicore.sources.extract import PageText, TextKind  # noqa: E402
from wikicore.sources.html import main_text, visible_text  # noqa: E402
from wikicore.sources.normalize import normalize  # noqa: E402
from wikicore.sources.quotes import MatchMethod, PreparedText, QuoteMatch, find_quote  # noqa: E402

LINE_HYPHEN = re.compile(r"(?<=[a-z])-[ \t]*\r?\n(?=[a-z])")
PDFS = ("naacl06-shinyama", "i1040nr", "f1040nr", "dmca", "kampo", "nlp2004slides")


def _cpu(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    value = call()
    return value, (time.process_time() - start) * 1000


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def _found(matches: list[QuoteMatch]) -> int:
    return sum(m.found for m in matches)


def accuracy(outcome: Outcome) -> list[tuple[str, str, str]]:
    """(row, result, target) for the accuracy table."""
    variants = [m for group in (*outcome.quote_variants.values(), *outcome.page_variants.values()) for m in group]
    present = outcome.present + outcome.sidebar + variants
    rows = [
        ("present quotes found (sentences, on capture and live)", _pct(_found(outcome.present), len(outcome.present)),
         ">= 99%"),
        ("present quotes outside the main text (table, caption, sidebar) found",
         _pct(_found(outcome.sidebar), len(outcome.sidebar)), ">= 99%"),
    ]
    page_side = {f"page: {k}": v for k, v in outcome.page_variants.items()}
    for kind, matches in {**outcome.quote_variants, **page_side}.items():
        rows.append((f"variant {kind} found", _pct(_found(matches), len(matches)), ">= 99%"))
    rows.append(("**all present quotes, variants included**", _pct(_found(present), len(present)), ">= 99%"))
    rows.append(("**quotes from other pages reported found**", _pct(_found(outcome.absent), len(outcome.absent)), "0"))
    rows.append(("sentences the edit removed, still reported found (they recur elsewhere on the page)",
                 _pct(_found(outcome.removed), len(outcome.removed)), "(info)"))
    rows.append(("sentences the edit reworded, still reported found",
                 _pct(_found(outcome.reworded), len(outcome.reworded)), "(info)"))
    edited = [d for kind in ("removed", "reworded", "replaced") for d in outcome.drift[kind]]
    drifted = sum(d.status != "same" for d in edited)
    rows.append(("**edited pages reported changed or unrelated**", _pct(drifted, len(edited)), ">= 95%"))
    for kind in ("removed", "reworded", "replaced"):
        counts = {s: sum(d.status == s for d in outcome.drift[kind]) for s in ("same", "changed", "unrelated")}
        rows.append((f"  {kind}: same / changed / unrelated", " / ".join(str(v) for v in counts.values()), ""))
    unchanged = outcome.drift["unchanged"]
    drifted_unchanged = sum(d.status != "same" for d in unchanged)
    rows.append(("**unchanged pages reported drifted**", _pct(drifted_unchanged, len(unchanged)), "<= 1%"))
    return rows


def thresholds(outcome: Outcome, pages: dict[str, PageText]) -> dict[str, Any]:
    """The score distributions behind the named thresholds."""
    variants = [m for group in (*outcome.quote_variants.values(), *outcome.page_variants.values()) for m in group]
    present = outcome.present + outcome.sidebar + variants
    fuzzy = [m for m in present if m.method is MatchMethod.FUZZY]
    reworded_missing = sorted(m.score for m in outcome.reworded if not m.found)
    # Short phrases from other pages: how high does the best window of a long page score?
    absent_texts = [q for q in _absent_quotes()]
    texts = [normalize(p.full) for p in list(pages.values())[:40]]
    short: dict[int, float] = {}
    for length in (12, 16, 20, 24, 32):
        best = 0.0
        for index, quote in enumerate(absent_texts[:200]):
            phrase = normalize(quote)[:length]
            text = texts[index % len(texts)]
            if phrase in text:
                continue
            best = max(best, fuzz.partial_ratio(phrase, text) / 100)
        short[length] = round(best, 3)
    drift = {kind: sorted(d.similarity for d in ds) for kind, ds in outcome.drift.items()}
    return {
        "present_min_score": min(m.score for m in present),
        "present_fuzzy_matches": len(fuzzy),
        "present_fuzzy_min": min((m.score for m in fuzzy), default=None),
        "absent_max_score": max(m.score for m in outcome.absent),
        "reworded_missing_max_score": reworded_missing[-1] if reworded_missing else None,
        "short_phrase_best_window": short,
        "drift_similarity": {k: {"min": v[0], "median": statistics.median(v), "max": v[-1]} for k, v in drift.items()},
        "topic_replaced_max": max(d.topic for d in outcome.drift["replaced"]),
        "topic_edited_min": min(d.topic for k in ("removed", "reworded") for d in outcome.drift[k]),
    }


_ABSENT: list[str] = []


def _absent_quotes() -> list[str]:
    return _ABSENT


def timings(bed_pages: list[Any]) -> dict[str, Any]:
    """CPU per page on the unchanged live copies: each stage, and the whole check of the page's quotes."""
    stages: dict[str, list[float]] = {k: [] for k in ("decode", "visible", "main", "prepare", "match", "total")}
    per_quote: list[float] = []
    for page in bed_pages:
        body = page.live["unchanged"]
        decoded, t_decode = _cpu(lambda body=body: decode(body, LIVE_TYPE))
        full, t_visible = _cpu(lambda d=decoded: visible_text(d.text))
        main, t_main = _cpu(lambda d=decoded: main_text(d.text))
        text = PageText(TextKind.HTML, full, main or full, decoded.encoding)
        prepared, t_prepare = _cpu(lambda t=text: PreparedText.of(t))
        t_match = 0.0
        for quote in page.present:
            _, spent = _cpu(lambda q=quote, p=prepared: find_quote(q, p))
            per_quote.append(spent)
            t_match += spent
        for name, value in (("decode", t_decode), ("visible", t_visible), ("main", t_main), ("prepare", t_prepare),
                            ("match", t_match)):
            stages[name].append(value)
        stages["total"].append(t_decode + t_visible + t_main + t_prepare + t_match)
    result = {k: {"median": round(statistics.median(v), 2), "p90": round(sorted(v)[int(0.9 * len(v))], 2)}
              for k, v in stages.items()}
    result["per_quote"] = {"median": round(statistics.median(per_quote), 3),
                           "p90": round(sorted(per_quote)[int(0.9 * len(per_quote))], 3)}
    return result


def trafilatura_settings(bed_pages: list[Any]) -> dict[str, dict[str, float]]:
    """trafilatura's CPU per page and empty results under the settings we considered."""
    settings: dict[str, dict[str, Any]] = {
        "fast, favor_recall, tables (chosen)": {"fast": True, "favor_recall": True, "include_tables": True},
        "fast": {"fast": True},
        "default (fallback extractors)": {},
        "favor_precision": {"favor_precision": True},
    }
    texts = [decode(page.live["unchanged"], LIVE_TYPE).text for page in bed_pages]
    out: dict[str, dict[str, float]] = {}
    for label, options in settings.items():
        spent: list[float] = []
        empty = 0
        for text in texts:
            found, ms = _cpu(lambda t=text, o=options: trafilatura.extract(t, **o))
            spent.append(ms)
            empty += not found
        out[label] = {"median_ms": round(statistics.median(spent), 2),
                      "p90_ms": round(sorted(spent)[int(0.9 * len(spent))], 2), "empty": empty}
    return out


def pdf_libraries(folder: Path) -> list[dict[str, Any]]:
    """Each library on each sample PDF: pages, characters, CPU, reference lines of page 1 found."""
    import pdfminer.high_level
    import pdfminer.layout
    import pypdf
    import pypdfium2

    def pdfium(data: bytes) -> list[str]:
        document = pypdfium2.PdfDocument(data)
        try:
            pages = []
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return pages
        finally:
            document.close()

    def with_pypdf(data: bytes) -> list[str]:
        return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]

    def with_pdfminer(data: bytes) -> list[str]:
        return ["".join(element.get_text() for element in page if isinstance(element, pdfminer.layout.LTTextContainer))
                for page in pdfminer.high_level.extract_pages(io.BytesIO(data))]

    libraries = {"pypdfium2": pdfium, "pypdf": with_pypdf, "pdfminer.six": with_pdfminer}
    rows = []
    for name in PDFS:
        data = (folder / f"{name}.pdf").read_bytes()
        reference = (folder / f"{name}.txt.ref").read_text("utf-8", "replace").split("\f")[0]
        # Line-end hyphens joined as page_text joins them, so a line is the words a reader sees.
        reference = LINE_HYPHEN.sub("", reference)
        lines = [line.strip() for line in reference.splitlines() if len(line.strip()) >= 30]
        # Paragraphs (pdfminer separates text boxes by blank lines) test reading order across lines.
        paragraphs = [" ".join(block.split()) for block in reference.split("\n\n")
                      if block.count("\n") >= 1 and len(block) >= 60]
        row: dict[str, Any] = {"pdf": name, "bytes": len(data), "reference_lines": len(lines),
                               "reference_paragraphs": len(paragraphs)}
        for label, read in libraries.items():
            try:
                pages, ms = _cpu(lambda r=read, d=data: r(d))
            except Exception as error:  # a library that cannot read a real PDF is a result, not a crash
                row[label] = {"error": repr(error)[:80]}
                continue
            text = LINE_HYPHEN.sub("", pages[0]) if pages else ""
            first = PreparedText.of(PageText(TextKind.PDF, text, text, page_starts=(0,)))
            row[label] = {"pages": len(pages), "chars": sum(len(p) for p in pages), "cpu_ms": round(ms, 1),
                          "lines_found": sum(find_quote(line, first).found for line in lines),
                          "paragraphs_found": sum(find_quote(block, first).found for block in paragraphs)}
        rows.append(row)
    return rows


def main() -> int:
    """Run every measurement; print Markdown; write JSON."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    folder = fetch_pinned(TRAFILATURA)
    if isinstance(folder, str):
        print(f"cannot run: {folder}")
        return 2
    pages = {path.stem: path.read_bytes() for path in sorted((folder / "tests" / "cache").glob("*.html"))}
    bed, build_ms = _cpu(lambda: build_bed(pages))
    print(f"bed: {len(bed)} of {len(pages)} real pages (the rest have fewer than 4 sentences of main text); "
          f"built in {build_ms / 1000:.1f} s CPU")
    outcome, eval_ms = _cpu(lambda: evaluate(bed))
    _ABSENT.extend(q for page in bed for q in page.absent)
    print(f"evaluated in {eval_ms / 1000:.1f} s CPU\n")
    print("| on the bed | result | target |\n| --- | --- | --- |")
    table = accuracy(outcome)
    for row in table:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    from wikicore.sources.extract import page_text

    live = {page.name: page_text(page.live["unchanged"], LIVE_TYPE) for page in bed}
    evidence = thresholds(outcome, live)
    print("\nthresholds:", evidence)
    cpu = timings(bed)
    print("\n| CPU per page (ms) | median | p90 |\n| --- | --- | --- |")
    for stage, figures in cpu.items():
        print(f"| {stage} | {figures['median']} | {figures['p90']} |")
    extractors = trafilatura_settings(bed)
    print("\n| trafilatura setting | median ms | p90 ms | empty |\n| --- | --- | --- | --- |")
    for label, figures in extractors.items():
        print(f"| {label} | {figures['median_ms']} | {figures['p90_ms']} | {figures['empty']} |")
    pdf_folder = fetch_pinned(PDFMINER)
    pdfs: list[dict[str, Any]] = []
    if isinstance(pdf_folder, str):
        print(f"\nPDFs skipped: {pdf_folder}")
    else:
        pdfs = pdf_libraries(pdf_folder / "samples" / "nonfree")
        print("\nPer library: CPU for the whole file; of page 1, reference lines / paragraphs found.\n")
        print("| PDF | pages | ref. lines / paragraphs | pypdfium2 | pypdf | pdfminer.six |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in pdfs:
            cells = []
            for label in ("pypdfium2", "pypdf", "pdfminer.six"):
                got = row[label]
                found = f"{got.get('lines_found')} / {got.get('paragraphs_found')}"
                cells.append(got.get("error") or f"{got['cpu_ms']} ms; {found}")
            pages = row["pypdfium2"].get("pages", "?")
            print(f"| {row['pdf']} | {pages} | {row['reference_lines']} / {row['reference_paragraphs']} | "
                  + " | ".join(cells) + " |")
    misses = outcome.misses
    if misses:
        print("\nmisses:\n" + "\n".join(misses[:30]))
    write_results("sources", {"pages": len(bed), "accuracy": table, "thresholds": evidence, "cpu_ms": cpu,
                              "trafilatura": extractors, "pdf": pdfs, "misses": misses})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
