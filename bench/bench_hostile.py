#!/usr/bin/env python3
"""Hostile inputs against every parser and differ (each must stay linear): seconds and peak memory.

Each case runs in its own Python process (the clock starts after the case has
built its input; the baseline row is the cost of importing the modules, part
of the other rows) (so a hang cannot stop the table and
peak memory is the case's own), with a time limit; a case that hits the limit
is reported as ``>LIMIT``. ``--src DIR`` runs the cases against another
checkout's ``wikicore`` (for instance the code before the budgets:
``git archive 7570eaf wikicore | tar -x -C /tmp/old`` then ``--src /tmp/old``),
so "before" and "after" come from the same machine and the same script. Wall
and CPU seconds are both shown: on a shared machine the wall clock is mostly
the queue for a core.

Usage: ``.venv/bin/python bench/bench_hostile.py [--limit 120] [--src DIR] [--only NAME ...]``.
Prints a table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from results_file import write_results  # noqa: E402

#: name -> (what it is, Python code run in the child; it may use TMP, a scratch folder).
CASES: dict[str, tuple[str, str]] = {
    "baseline-imports": ("importing wikicore's parsers and differ: part of every figure below", """
import wikicore.diff, wikicore.mediawiki.dumpimport, wikicore.mediawiki.importer, wikicore.sentences
"""),
    "sentences-mr": ('split_sentences on 120 KB of "Mr. x "', """
from wikicore.sentences import split_sentences
assert "".join(split_sentences("Mr. x " * 20_000)) == "Mr. x " * 20_000
"""),
    "diff-94kb": ("inline_diff of a 94 KB claim with one word changed", """
from wikicore.diff import inline_diff
words = [f"w{i % 97} " for i in range(24_000)]
old = "".join(words)
new = "".join(words[:12000] + ["changed "] + words[12001:])
assert len(old) > 90_000
segments = inline_diff(old, new)
assert "".join(s.text for s in segments if s.op != "insert") == old
"""),
    "diff-94kb-pairing": ("diff_articles: a 94 KB claim changed under a new id", """
from wikicore.diff import diff_articles
from wikicore.models import Article
words = [f"w{i % 97} " for i in range(24_000)]
old = "".join(words).strip()
new = "".join(words[:12000] + ["changed "] + words[12001:]).strip()
def art(cid, text):
    return Article.model_validate({"slug": "a", "title": "A", "lead": [{"claims": [{"id": cid, "text": text}]}]})
diff_articles(art("c-1", old), art("c-2", new))
"""),
    "wikitext-open-templates": ("import_wikitext of 4,000 unclosed '{{a|'", """
from wikicore.errors import WikicoreError
from wikicore.mediawiki.importer import import_wikitext
try:
    import_wikitext("{{a|" * 4000, title="Hostile")
except WikicoreError as error:
    print("refused:", str(error)[:100])
"""),
    "wikitext-open-refs": ("import_wikitext of 4,000 unclosed '<ref '", """
from wikicore.errors import WikicoreError
from wikicore.mediawiki.importer import import_wikitext
try:
    import_wikitext("<ref " * 4000, title="Hostile")
except WikicoreError as error:
    print("refused:", str(error)[:100])
"""),
    "wikitext-open-templates-10k": ("import_wikitext of 10,000 unclosed '{{a|'", """
from wikicore.errors import WikicoreError
from wikicore.mediawiki.importer import import_wikitext
try:
    import_wikitext("{{a|" * 10000, title="Hostile")
except WikicoreError as error:
    print("refused:", str(error)[:100])
"""),
    "wikitext-8000-refs": ("import_wikitext of 8,000 <ref>s on one line", """
from wikicore.errors import WikicoreError
from wikicore.mediawiki.importer import import_wikitext
try:
    import_wikitext("Text" + "<ref>x</ref>" * 8000 + ".", title="Hostile")
except WikicoreError as error:
    print("refused:", str(error)[:100])
"""),
    "wikitext-repeated-4k": ("import_wikitext of 4,000 sections of repeated text (id minting)", r"""
from wikicore.mediawiki.importer import import_wikitext
section = ("\n== Notes ==\nThe same sentence opens every section.<ref>Same source, p. 1.</ref> "
           "Retrieved. Retrieved. Another repeated sentence.<ref name='same' />\n")  # as in bench_ids.py
import_wikitext("Lead.<ref name='same'>A named source.</ref>\n" + section * 4000, title="Repeated")
"""),
    "dump-bz2-1gib-text": ("import_dump of a 1 KB-ish .bz2 holding one 1 GiB <text>", """
import bz2, subprocess
from pathlib import Path
from wikicore.errors import WikicoreError
from wikicore.mediawiki.dumpimport import import_dump
from wikicore.store import Wiki
path = Path(TMP) / "bomb.xml.bz2"
comp = bz2.BZ2Compressor(9)
with path.open("wb") as out:
    out.write(comp.compress(b"<mediawiki><page><title>Bomb</title><ns>0</ns><revision><id>1</id><text>"))
    chunk = b"a" * (1 << 20)
    for _ in range(1024):
        out.write(comp.compress(chunk))
    out.write(comp.compress(b"</text></revision></page></mediawiki>"))
    out.write(comp.flush())
print("compressed bytes:", path.stat().st_size)
Wiki.init(Path(TMP) / "wiki").close()
START()
try:
    import_dump(path, Path(TMP) / "wiki")
except WikicoreError as error:
    print("refused:", str(error)[:120])
"""),
    "dump-10m-elements": ("import_dump of one page holding 10 million empty elements", """
import bz2
from pathlib import Path
from wikicore.errors import WikicoreError
from wikicore.mediawiki.dumpimport import import_dump
from wikicore.store import Wiki
path = Path(TMP) / "many.xml.bz2"
comp = bz2.BZ2Compressor(9)
with path.open("wb") as out:
    out.write(comp.compress(b"<mediawiki><page><title>Many</title><ns>0</ns><revision><id>1</id>"))
    for _ in range(100):
        out.write(comp.compress(b"<x/>" * 100_000))
    out.write(comp.compress(b"<text>Hi.</text></revision></page></mediawiki>"))
    out.write(comp.flush())
Wiki.init(Path(TMP) / "wiki").close()
START()
try:
    import_dump(path, Path(TMP) / "wiki")
except WikicoreError as error:
    print("refused:", str(error)[:120])
"""),
}

# START() restarts the clock once a case has built its input (writing a 1 GiB bz2 bomb takes a while).
_WRAPPER = """
import resource, sys, time
sys.path.insert(0, {src!r})
TMP, BENCH = {tmp!r}, {bench!r}
start, cpu = time.perf_counter(), time.process_time()
def START():
    global start, cpu
    start, cpu = time.perf_counter(), time.process_time()
exec(compile({code!r}, "case", "exec"))
print("RESULT", time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      time.process_time() - cpu)
"""


def run_case(code: str, src: Path, limit: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        program = _WRAPPER.format(src=str(src), tmp=tmp, bench=str(ROOT / "bench"), code=code)
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=limit,
                                  cwd=tmp, check=False)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "limit": limit, "outcome": f">{limit:.0f} s (killed)"}
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    result = next((line.split() for line in lines if line.startswith("RESULT")), None)
    notes = " | ".join(line for line in lines if not line.startswith("RESULT"))
    if done.returncode != 0 or result is None:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"seconds": round(wall, 2), "outcome": f"crashed: {tail[:120]}"}
    return {"seconds": round(float(result[1]), 2), "cpu_seconds": round(float(result[3]), 2),
            "peak_mib": round(int(result[2]) / 1024), "outcome": notes[:160] or "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a case is killed")
    parser.add_argument("--src", type=Path, default=ROOT, help="a checkout whose wikicore/ to measure")
    parser.add_argument("--only", nargs="*", help="case names to run")
    args = parser.parse_args()
    rows = {}
    print(f"{'case':<28} {'wall s':>8} {'cpu s':>7} {'MiB':>6}  outcome")
    for name, (what, code) in CASES.items():
        if args.only and name not in args.only:
            continue
        row = {"what": what, **run_case(code, args.src.resolve(), args.limit)}
        rows[name] = row
        seconds = "-" if row["seconds"] is None else f"{row['seconds']:.2f}"
        cpu = row.get("cpu_seconds", "-")
        print(f"{name:<28} {seconds:>8} {cpu!s:>7} {row.get('peak_mib', '-')!s:>6}  {row['outcome']}", flush=True)
    write_results("hostile", {"src": str(args.src), "limit": args.limit, "rows": rows})
    json.dumps(rows)


if __name__ == "__main__":
    main()
