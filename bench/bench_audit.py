"""A whole audit, twice: archive requests per reference, and what the cache saves (issue 4, "Speed").

Run:  .venv/bin/python bench/bench_audit.py [--refs 2000]

REFS references over 40 loopback hosts (the hostile little web in its own
process, as in bench_links.py, so it does not share our GIL; one link in five
dead) are audited against a Wayback-compatible server holding captures for half
of them. The first audit checks every link and looks up every archive; the
second, within the TTL, must make no request of any kind and be much faster:
archive requests are counted by the archive server, and every link result of
the second run must come from the cache. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_links import Server  # the web server in a child process
from results_file import write_results

from wikicore.archive import WaybackArchive
from wikicore.audit import AuditEvent, audit_articles
from wikicore.linkcheck import CheckConfig
from wikicore.models import Article
from wikicore.testing.wayback import FakeWayback


def build_article(bases: list[str], refs: int) -> tuple[Article, list[dict[str, str]]]:
    references, captures = [], []
    for i in range(refs):
        path = f"/missing/{i}" if i % 5 == 0 else f"/p/{i}"
        url = bases[i % len(bases)] + path
        references.append({"id": f"r{i}", "type": "web", "title": f"Page {i}", "url": url, "access_date": "2021-06-01"})
        if i % 2 == 0:
            captures.append({"url": url, "timestamp": f"2021{(i % 12) + 1:02d}15000000"})
    claims = [{"text": f"Claim {i}. ", "citations": [{"ref": f"r{i}"}]} for i in range(refs)]
    article = Article.model_validate(
        {"slug": "bench", "title": "Bench", "lead": [{"claims": claims}], "references": references}
    )
    return article, captures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=2000)
    args = parser.parse_args()
    config = CheckConfig(allow_private=True, per_host=10, host_interval=0.05, concurrency=128)
    web = Server(40)
    with tempfile.TemporaryDirectory() as tmp:
        article, captures = build_article(web.bases, args.refs)
        with FakeWayback(captures) as wayback:
            db = Path(tmp) / "checks.sqlite"
            rows = []
            for run in ("first", "second"):
                archive_before = sum(wayback.counts.values())
                phases: dict[str, list[float]] = {}

                def progress(event: AuditEvent, phases: dict[str, list[float]] = phases) -> None:
                    phases.setdefault(str(event.phase), []).append(time.perf_counter())

                started = time.perf_counter()
                report = audit_articles(
                    [(article, None)],
                    config=config,
                    archive=WaybackArchive(wayback.base_url, use_cdx=False),
                    db_path=db,
                    progress=progress,
                )
                seconds = time.perf_counter() - started
                refs = report.articles[0].references
                fetched = sum(1 for r in refs if not r.from_cache)
                archive_requests = sum(wayback.counts.values()) - archive_before
                rows.append(
                    {
                        "run": run,
                        "refs": args.refs,
                        "seconds": round(seconds, 3),
                        "links_fetched": fetched,
                        "archive_requests": archive_requests,
                        "archive_requests_per_ref": round(archive_requests / args.refs, 4),
                        "phase_seconds": {k: round(v[-1] - v[0], 3) for k, v in phases.items()},
                        "statuses": report.articles[0].summary.by_status,
                    }
                )
    web.close()
    speedup = rows[0]["seconds"] / max(rows[1]["seconds"], 1e-9)
    print(f"{'run':8} {'refs':>6} {'seconds':>9} {'fetched':>9} {'archive req':>12} {'archive/ref':>12}")
    for row in rows:
        print(
            f"{row['run']:8} {row['refs']:>6} {row['seconds']:>9.3f} {row['links_fetched']:>9} "
            f"{row['archive_requests']:>12} {row['archive_requests_per_ref']:>12}"
        )
    print(f"phases of the first run (s): {rows[0]['phase_seconds']}")
    print(f"re-audit within TTL: {speedup:.0f}x faster; statuses {rows[0]['statuses']}")
    write_results("bench_audit", {"runs": rows, "speedup": speedup})


if __name__ == "__main__":
    main()
