"""Verdict accuracy on the real-web corpus, wikicore beside lychee 0.24.2.

Run:  .venv/bin/python bench/bench_verdicts.py       (from the repository root)

The corpus is :mod:`tests.servers.realweb`: real pages fetched from pinned
registry packages (``tests/support/realweb.py``), each labelled in
``tests/data/realweb_labels.tsv``, served on loopback by sites that behave as
real ones do (real 404s, unknown paths sent home, soft-404 sites, an archive's
own pages, bot walls). Both tools check the same URLs; the table counts, per
label, what each tool said. lychee judges by status code alone: what it lists
as an error is what its user reads as a broken link. lychee comes with the
``bench`` extra; without it the lychee column says so.

Results print as a table (the one in the README's "Verdicts" section) and go to
``bench/results/verdicts-*.json``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_results  # noqa: E402
from tests.servers.realweb import RealWeb  # noqa: E402
from wikicore.links import check_urls  # noqa: E402
from wikicore.net import CheckConfig  # noqa: E402

LYCHEE = Path(sys.executable).parent / "lychee"
CONFIG = CheckConfig(allow_private=True, per_host=4, host_interval=0.0, deadline=30.0)


def lychee(urls: list[str]) -> dict[str, str] | None:
    """lychee's word on each URL: ``ok``, ``dead`` (a 404 or 410) or ``failed`` (any other error)."""
    if not LYCHEE.exists():
        return None
    with tempfile.TemporaryDirectory() as work:
        listing = Path(work) / "urls.txt"
        listing.write_text("\n".join(urls) + "\n")
        done = subprocess.run([str(LYCHEE), "--no-progress", "--format", "json", "--max-concurrency", "32",
                               str(listing)], capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(done.stdout)
    said = dict.fromkeys(urls, "ok")
    for entries in report.get("error_map", {}).values():
        for entry in entries:
            text = str(entry.get("status", {}).get("text", ""))
            said[entry["url"]] = "dead" if re.search(r"\b(?:404|410)\b", text) else "failed"
    return said


def main() -> int:
    with RealWeb() as web:
        cases = {web.url(case): case for case in web.cases}
        ours = {r.url: r.status.value for r in check_urls(list(cases), CONFIG)}
        theirs = lychee(list(cases))
    by_label = Counter(case.expected for case in cases.values())

    def count(said: dict[str, str] | None, label: str, *words: str) -> str:
        if said is None:
            return "not installed"
        hits = sum(1 for url, case in cases.items() if case.expected == label and said.get(url) in words)
        return f"{hits} of {by_label[label]}"

    rows = [
        ("live pages called live", count(ours, "live", "live"), count(theirs, "live", "ok")),
        ("live pages called dead or failing", count(ours, "live", "dead"), count(theirs, "live", "dead", "failed")),
        ("live pages called soft 404", count(ours, "live", "soft-404"), "- (no such verdict)"),
        ("soft 404s caught", count(ours, "soft-404", "soft-404"), count(theirs, "soft-404", "dead", "failed")),
        ("real 404s called dead", count(ours, "dead", "dead"), count(theirs, "dead", "dead")),
        ("bot walls called blocked", count(ours, "blocked", "blocked"), "- (no such verdict)"),
        ("bot walls called dead or failing", count(ours, "blocked", "dead"),
         count(theirs, "blocked", "dead", "failed")),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'on ' + str(len(cases)) + ' urls':<{width}}  {'wikicore':>14}  {'lychee 0.24.2':>20}")
    for name, mine, other in rows:
        print(f"{name:<{width}}  {mine:>14}  {other:>20}")
    write_results("verdicts", {"urls": len(cases), "labels": dict(by_label),
                               "rows": [{"measure": n, "wikicore": a, "lychee": b} for n, a, b in rows]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
