"""A whole audit: overlapping phases, archive requests per reference, re-audits, memory.

Run:  .venv/bin/python bench/bench_audit.py [--refs 2000] [--reaudit-refs 10000] [--memory-refs 50000]
      [--old PATH]   (a checkout of the code to compare the re-audit against, e.g. from `git archive`)

Scenarios (the hostile little web in its own process, as in bench_links.py;
one link in five dead; a Wayback-compatible server holding captures for half):

1. ``phases``: REFS references over 40 hosts with 100-300 ms latency, at
   wikicore's default politeness. Timed separately: links only (``no_archive``),
   the archive phase alone, and the whole audit (both phases overlapping). The
   target is whole <= 1.15x the slower of the two alone. The whole audit is then
   run again within the TTL: it must make no request of any kind.
2. ``reaudit``: a re-audit within the TTL of REAUDIT_REFS references (links
   only, every verdict from the link database), median of 3 in a child process
   (wall and CPU seconds: the machine is shared, CPU time is the steadier
   figure), and with ``--old`` the same with that checkout's code.
3. ``quotes``: REFS references, each citation with a quote, over 40 hosts with
   100-300 ms latency, at the default politeness: the whole audit with the
   source-text phase against the same audit with ``no_quotes`` (distinct urls per
   run, so nothing is cached). Target: <= 1.3x.
4. ``memory``: peak RSS of a child process auditing MEMORY_REFS references
   over 200 hosts (links only, no latency, 10 per host): results are streamed to
   the database; the target is <= 200 MB. ``--memory-quotes`` gives every
   citation a quote, so the source-text phase reads all 50,000 pages too.

Each figure goes to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from bench_links import Server  # the web server in a child process
from results_file import write_results

HERE = Path(__file__).resolve().parent


def build_article(
    bases: list[str], refs: int, slug: str = "bench", offset: int = 0, quotes: bool = False
) -> tuple[object, list[dict[str, str]]]:
    from wikicore.models import Article

    references, captures = [], []
    for i in range(refs):
        n = offset + i  # distinct urls across articles
        path = f"/missing/{n}" if i % 5 == 0 else f"/p/{n}"
        url = bases[i % len(bases)] + path
        references.append({"id": f"r{i}", "type": "web", "title": f"Page {i}", "url": url, "access_date": "2021-06-01"})
        if i % 2 == 0:
            captures.append({"url": url, "timestamp": f"2021{(i % 12) + 1:02d}15000000"})
    # With ``quotes``, every citation carries one (the bench pages say "ok": half are found, the rest missing).
    claims = [{"text": f"Claim {i}. ", "citations": [{"ref": f"r{i}", **({"quote": "ok" if i % 2 else f"quote {i}"}
                                                                        if quotes else {})}]} for i in range(refs)]
    article = Article.model_validate(
        {"slug": slug, "title": "Bench", "lead": [{"claims": claims}], "references": references}
    )
    return article, captures


def phases(refs: int) -> list[dict[str, object]]:
    from wikicore.archive import SnapshotQuery, WaybackArchive
    from wikicore.audit import AuditOptions, audit_articles
    from wikicore.audit.collect import query_day
    from wikicore.audit.live import look_up_archives
    from wikicore.net import CheckConfig
    from wikicore.testing.wayback import FakeWayback

    config = CheckConfig(allow_private=True)  # wikicore's default politeness
    web = Server(40, "100-300")
    rows: list[dict[str, object]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for tag in ("links", "archive", "whole"):
                bases = [f"{b}/{tag}" for b in web.bases]  # distinct URLs per run: nothing cached
                article, captures = build_article(bases, refs)
                with FakeWayback(captures) as wayback:
                    archive = WaybackArchive(wayback.base_url, use_cdx=False)
                    db = Path(tmp) / f"{tag}.sqlite"
                    started = time.perf_counter()
                    if tag == "archive":
                        queries = list(dict.fromkeys(
                            SnapshotQuery(r.url, query_day(r)) for r in article.references if r.url  # type: ignore[attr-defined]
                        ))
                        options = AuditOptions(config=config, archive=archive, db_path=db)
                        look_up_archives(queries, [], options, lambda e: None)
                    else:
                        audit_articles([(article, None)], config=config, archive=archive, db_path=db,
                                       no_archive=tag == "links")
                    seconds = time.perf_counter() - started
                    requests = sum(wayback.counts.values())
                    row: dict[str, object] = {"scenario": "phases", "run": tag, "refs": refs,
                                              "seconds": round(seconds, 2), "archive_requests": requests}
                    if tag == "whole":
                        before = sum(wayback.counts.values())
                        started = time.perf_counter()
                        report = audit_articles([(article, None)], config=config, archive=archive, db_path=db)
                        again = time.perf_counter() - started
                        cached = sum(1 for r in report.articles[0].references if r.from_cache)
                        rows.append(row)
                        row = {"scenario": "phases", "run": "re-audit within TTL", "refs": refs,
                               "seconds": round(again, 3), "archive_requests": sum(wayback.counts.values()) - before,
                               "links_from_cache": cached}
                    rows.append(row)
    finally:
        web.close()
    return rows


def quotes(refs: int) -> list[dict[str, object]]:
    from wikicore.archive import WaybackArchive
    from wikicore.audit import audit_articles
    from wikicore.net import CheckConfig
    from wikicore.testing.wayback import FakeWayback

    config = CheckConfig(allow_private=True)  # wikicore's default politeness
    web = Server(40, "100-300")
    rows: list[dict[str, object]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for run, tag in enumerate(("no-quotes", "quotes")):
                # Distinct URLs per run (an offset: the bench server serves /p/N at the root only): nothing cached.
                article, captures = build_article(web.bases, refs, offset=run * 1_000_000, quotes=True)
                with FakeWayback(captures) as wayback:
                    # A self-hosted archive, rated as its operator would run it (`--archive-rate 0`):
                    # its replays follow that gate, not the Internet Archive's playback limit.
                    archive = WaybackArchive(wayback.base_url, use_cdx=False, rates={"web": 0})
                    started = time.perf_counter()
                    cpu = time.process_time()
                    report = audit_articles([(article, None)], config=config, archive=archive,
                                            db_path=Path(tmp) / f"{tag}.sqlite", no_quotes=tag == "no-quotes")
                    rows.append({"scenario": "quotes", "run": tag, "refs": refs,
                                 "seconds": round(time.perf_counter() - started, 2),
                                 "cpu_seconds": round(time.process_time() - cpu, 2),
                                 "quotes": report.sources().quotes, "drift": report.sources().drift})
    finally:
        web.close()
    rows.append({"scenario": "quotes", "run": "ratio", "refs": refs,
                 "quotes_over_no_quotes": round(float(rows[1]["seconds"]) / float(rows[0]["seconds"]), 2)})  # type: ignore[arg-type]
    return rows


def reaudit_child(refs: int, base: str) -> dict[str, object]:
    """In this process: a first audit to fill the database, then the timed re-audit within the TTL."""
    import wikicore.audit
    from wikicore.audit import audit_articles
    from wikicore.net import CheckConfig

    config = CheckConfig(allow_private=True, per_host=64, host_interval=0.0, concurrency=64)
    bases = [f"{base}/h{i}" for i in range(50)]
    article, _ = build_article(bases, refs)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "checks.sqlite"
        kwargs: dict[str, object] = {"config": config, "db_path": db, "archive": None}
        # The old code may predate no_archive (then a keyword of audit_articles) or AuditOptions (a field).
        if "no_archive" in audit_articles.__code__.co_varnames or hasattr(wikicore.audit, "AuditOptions"):
            kwargs["no_archive"] = True
        else:  # the old code has no --no-archive: an archive with every answer cached is the nearest
            kwargs["archive"] = _NoArchive()
        audit_articles([(article, None)], **kwargs)  # type: ignore[arg-type]
        walls, cpus = [], []
        for _ in range(3):
            started, cpu = time.perf_counter(), time.process_time()
            report = audit_articles([(article, None)], **kwargs)  # type: ignore[arg-type]
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
    cached = sum(1 for r in report.articles[0].references if r.from_cache)
    return {"seconds": round(sorted(walls)[1], 3), "cpu_seconds": round(sorted(cpus)[1], 3),
            "runs": [round(w, 2) for w in walls], "from_cache": cached}


class _NoArchive:
    """An archive that knows nothing and asks nobody (for the old code, which always looks up)."""

    base_url = "http://127.0.0.1:9"

    def nearest(self, queries: object) -> dict[object, None]:
        return dict.fromkeys(queries)  # type: ignore[call-overload]

    def resolves(self, url: str) -> None:
        return None


def reaudit(refs: int, old: Path | None) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    web = Server(1)
    try:
        for label, root in (("this branch", HERE.parent), ("old", old)):
            if root is None:
                continue
            env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{HERE}"}
            done = subprocess.run(
                [sys.executable, str(HERE / "bench_audit.py"), "--child-reaudit", str(refs), "--base", web.bases[0]],
                capture_output=True, text=True, env=env, cwd=root, check=True,
            )
            result = json.loads(done.stdout.splitlines()[-1])
            rows.append({"scenario": "reaudit", "run": label, "refs": refs, **result})
    finally:
        web.close()
    return rows


def memory_child(refs: int, bases: list[str], eager: bool, with_quotes: bool = False) -> dict[str, object]:
    """Audit ``refs`` references in articles of 500; ``eager`` builds every article before the audit.

    A real audit reads articles one at a time (files, or a wiki's blobs): the
    default hands the audit a generator, so an article exists only while it is
    checked. ``eager`` holds all of them first, as this bench once did: the
    figure then measures the caller's 50,000 parsed references more than the audit.
    """
    from wikicore.audit import audit_articles
    from wikicore.net import CheckConfig
    from wikicore.output import write_file
    from wikicore.report.audit import render_pieces
    from wikicore.serialize import dumps

    config = CheckConfig(allow_private=True, per_host=10, host_interval=0.0, concurrency=128)
    per_article = 500  # a wiki: many articles of a few hundred references each
    count = refs // per_article
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    on_disk = len(dumps(build_article(bases, per_article, slug="a0", quotes=with_quotes)[0]).encode()) * count  # type: ignore[arg-type]

    def articles() -> Iterator[tuple[object, None]]:
        for n in range(count):
            yield build_article(bases, per_article, slug=f"a{n}", offset=n * per_article, quotes=with_quotes)[0], None

    targets: Iterable[tuple[object, None]] = list(articles()) if eager else articles()
    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = audit_articles(targets, config=config, db_path=Path(tmp) / "c.sqlite",  # type: ignore[arg-type]
                                no_archive=True)
        seconds = time.perf_counter() - started
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # What `wikicore audit --format json -o FILE` adds: the document written in pieces (peak RSS only grows).
        write_file(Path(tmp) / "audit.json", render_pieces(report, "json"))
        rendered = (Path(tmp) / "audit.json").stat().st_size
        with_json = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"input": "all built first" if eager else "one article at a time", "quotes": with_quotes,
            "quotes_checked": sum(report.sources().quotes.values()) if with_quotes else 0,
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(maxrss), "peak_rss_with_json_render_mb": round(with_json),
            "json_report_mb": round(rendered / 2**20, 1), "rss_after_imports_mb": round(base),
            "rss_after_building_input_mb": round(built), "input_yaml_mb": round(on_disk / 2**20, 1),
            "articles": len(report.articles), "distinct_urls": report.totals().references}


def memory(refs: int, eager: bool = False, with_quotes: bool = False) -> list[dict[str, object]]:
    web = Server(200)
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / "bench_audit.py"), "--child-memory", str(refs), "--base", ",".join(web.bases),
             *(["--eager-input"] if eager else []), *(["--memory-quotes"] if with_quotes else [])],
            capture_output=True, text=True, check=True, cwd=HERE.parent,
        )
    finally:
        web.close()
    return [{"scenario": "memory", "run": "links only, 200 hosts", "refs": refs, **json.loads(done.stdout)}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=2000)
    parser.add_argument("--reaudit-refs", type=int, default=10000)
    parser.add_argument("--memory-refs", type=int, default=50000)
    parser.add_argument("--old", type=Path, help="a checkout of older code for the re-audit comparison")
    parser.add_argument("--only", choices=["phases", "reaudit", "quotes", "memory"], default="")
    parser.add_argument("--memory-quotes", action="store_true",
                        help="memory: every citation has a quote, so every page's text is read too")
    parser.add_argument("--child-reaudit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--eager-input", action="store_true",
                        help="memory: build every article before the audit (default: one at a time, as a real audit)")
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_reaudit:
        print(json.dumps(reaudit_child(args.child_reaudit, args.base)))
        return
    if args.child_memory:
        print(json.dumps(memory_child(args.child_memory, args.base.split(","), args.eager_input, args.memory_quotes)))
        return
    rows: list[dict[str, object]] = []
    if args.only in ("", "phases"):
        rows += phases(args.refs)
    if args.only in ("", "reaudit"):
        rows += reaudit(args.reaudit_refs, args.old)
    if args.only in ("", "quotes"):
        rows += quotes(args.refs)
    if args.only in ("", "memory"):
        rows += memory(args.memory_refs, args.eager_input, args.memory_quotes)
    for row in rows:
        print(json.dumps(row))
    write_results("bench_audit", {"runs": rows})


if __name__ == "__main__":
    main()
