#!/usr/bin/env python3
"""Benchmarks of the git store against its targets (below), with GitPython's usual patterns as a baseline.

Measures, each on a wiki built fast with ``git fast-import`` in a temporary directory:

* save: median of ~50 saves into a wiki of 10,000 articles (target <= 30 ms);
* history of an article with 1,000 revisions (target <= 0.3 s);
* reading all 1,000 revisions (target <= 0.5 s);
* semantic diff of two revisions of a 500-claim article (target <= 100 ms);

and the same operations the GitPython way (``repo.index.add`` + ``index.commit``,
``iter_commits(paths=...)``, ``(commit.tree / path).data_stream``).

With ``--scale`` it measures the store at scale instead, on wikis built with
``git fast-import`` in the sharded layout (and, for comparison, the flat layout
of wikis made before it, on the same machine in the same run):

* save of one small edit at 1k/10k/100k(/300k with ``--huge``) articles, median of 25,
  and the bytes of git objects each save writes (loose, compressed, as on disk);
* save of a new article at the same sizes (the collision index), median of 15;
* bulk import: ``Wiki.import_articles`` of 5,000 small articles, and ``wikicore import DIR``
  of 2,000 YAML files end to end (parsing included);
* history of one article in a wiki of 10,000 articles and 10,000 revisions.

Usage: ``.venv/bin/python bench/bench_store.py [--quick] [--scale [--huge]]``. Prints a table
and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import git  # noqa: E402
from results_file import write_results  # noqa: E402

from wikicore import __version__  # noqa: E402
from wikicore.diff import diff_articles  # noqa: E402
from wikicore.models import Article  # noqa: E402
from wikicore.serialize import dumps  # noqa: E402
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Wiki, path_of  # noqa: E402

TARGETS_MS = {"save_10k": 30.0, "history_1000": 300.0, "read_1000": 500.0, "diff_500_claims": 100.0}
GIT_ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def small_article(slug: str, n: int = 3) -> Article:
    return Article.model_validate({
        "slug": slug,
        "title": slug.replace("-", " ").title(),
        "lead": [{"claims": [{"text": f"Claim {i} of {slug}, with a few words to make it realistic. ",
                              "citations": [{"ref": "r1"}]} for i in range(n)]}],
        "references": [{"id": "r1", "type": "web", "url": f"https://example.org/{slug}", "title": slug}],
    })


def big_article(slug: str, claims: int = 500, seed: int = 1) -> Article:
    rng = random.Random(seed)
    words = "treaty embassy relations border trade energy pipeline minister summit agreement visit".split()
    sections = []
    per = claims // 20
    for s in range(20):
        paragraphs = [{"claims": [
            {"id": f"c{s}-{i}", "text": " ".join(rng.choice(words) for _ in range(14)).capitalize() + f" {s}.{i}. ",
             "citations": [{"ref": f"r{(s * per + i) % 100}", "locator": f"p. {i}"}]}
            for i in range(per)]}]
        sections.append({"id": f"s{s}", "heading": f"Section {s}", "paragraphs": paragraphs})
    refs = [{"id": f"r{i}", "type": "web", "url": f"https://example.org/{i}",
             "archive_url": f"https://web.archive.org/web/2020/https://example.org/{i}",
             "access_date": "2024-01-01", "title": f"Source {i}"} for i in range(100)]
    return Article.model_validate({"slug": slug, "title": "Big", "sections": sections, "references": refs})


def edited(article: Article, seed: int = 2) -> Article:
    """A realistic review-sized edit: 25 rewordings, 5 lost sources, 10 new claims, 5 reference changes."""
    rng = random.Random(seed)
    data = article.model_dump(exclude_defaults=True)
    claims = [c for s in data["sections"] for p in s["paragraphs"] for c in p["claims"]]
    for claim in rng.sample(claims, 25):
        claim["text"] = claim["text"].replace("treaty", "accord", 1) + "Revised. "
    for claim in rng.sample(claims, 5):
        claim["citations"] = []
    data["sections"][3]["paragraphs"][0]["claims"] += [{"text": f"A new claim {i}. "} for i in range(10)]
    for ref in data["references"][:5]:
        ref["url"] = ref["url"].replace("example.org", "example.net")
    return Article.model_validate(data)


def fast_import(repo: Path, commits: list[tuple[str, dict[str, str]]]) -> None:
    """Write commits (message, {path: text}) on refs/heads/main with one ``git fast-import``."""
    out = bytearray()
    for index, (message, files) in enumerate(commits):
        msg = message.encode()
        out += b"commit refs/heads/main\n"
        out += f"committer Bench <bench@localhost> {1_700_000_000 + index} +0000\n".encode()
        out += b"data %d\n%s\n" % (len(msg), msg)
        for path, text in files.items():
            data = text.encode()
            out += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=bytes(out), check=True, env=GIT_ENV)


def timed(func: Callable[[], Any], repeat: int) -> list[float]:
    result = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        result.append((time.perf_counter() - start) * 1000)
    return result


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 2), "min_ms": round(ordered[0], 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2), "runs": len(ordered)}


def bench_saves(tmp: Path, articles: int, saves: int, baseline_commits: int) -> dict[str, Any]:
    template = dumps(small_article("article-00000"))
    files = {f"articles/article-{i:05d}.yaml": template.replace("article-00000", f"article-{i:05d}")
             .replace("Article 00000", f"Article {i:05d}") for i in range(articles)}
    wiki = Wiki.init(tmp / "wiki10k")
    fast_import(wiki.path, [("Import", files)])
    assert len(wiki.list()) == articles
    rng = random.Random(3)
    slugs = [f"article-{rng.randrange(articles):05d}" for _ in range(saves)]
    samples = []
    for n, slug in enumerate(slugs):
        article = wiki.load(slug)
        latest = wiki.latest(slug)
        data = article.model_dump(exclude_defaults=True)
        data["lead"][0]["claims"][0]["text"] += f"Edit {n}. "  # an ordinary edit: a claim, not the title
        changed = Article.model_validate(data)
        start = time.perf_counter()
        wiki.save(changed, f"edit {n}", base=latest.id if latest else None)
        samples.append((time.perf_counter() - start) * 1000)
    wiki.close()

    # Baseline: a checkout with 10k files and GitPython's index.add + index.commit.
    plain = tmp / "plain10k"
    subprocess.run(["git", "init", "-q", "-b", "main", str(plain)], check=True, env=GIT_ENV)
    fast_import(plain, [("Import", files)])
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=plain, check=True, env=GIT_ENV)
    repo = git.Repo(plain)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Bench")
        config.set_value("user", "email", "bench@localhost")
    baseline = []
    for n in range(baseline_commits):
        path = f"articles/article-{rng.randrange(articles):05d}.yaml"
        (plain / path).write_text(files[path].replace("Article", f"Article edit {n}", 1), encoding="utf-8")
        start = time.perf_counter()
        repo.index.add([path])
        repo.index.commit(f"edit {n}")
        baseline.append((time.perf_counter() - start) * 1000)
    repo.close()
    return {"wikicore": summary(samples), "gitpython_index_commit": summary(baseline)}


def bench_history(tmp: Path, revisions: int, repeat: int) -> dict[str, Any]:
    base = small_article("hist", n=20)
    text = dumps(base)
    commits = []
    for r in range(revisions):
        # Other articles change too, as in a real wiki, so log has to skip commits.
        files = {"articles/hist.yaml": text.replace("Claim 0 ", f"Claim 0 rev {r} ")}
        files[f"articles/other-{r % 50}.yaml"] = dumps(small_article(f"other-{r % 50}")).replace(
            "Claim 1 ", f"Claim 1 rev {r} ")
        commits.append((f"revision {r}", files))
    wiki = Wiki.init(tmp / "wikihist")
    fast_import(wiki.path, commits)
    history = wiki.history("hist")
    assert len(history) == revisions, len(history)
    history_ms = timed(lambda: wiki.history("hist"), repeat)

    def read_all() -> None:
        for rev in wiki.history("hist"):
            wiki.load_text("hist", rev=rev.id)

    read_ms = timed(read_all, repeat)

    def read_and_parse_all() -> None:
        for rev in wiki.history("hist"):
            wiki.load("hist", rev=rev.id)

    parse_ms = timed(read_and_parse_all, 1)
    wiki.close()

    repo = git.Repo(tmp / "wikihist")
    iter_ms = timed(lambda: list(repo.iter_commits("main", paths="articles/hist.yaml")), repeat)

    def tree_read_all() -> None:
        for commit in repo.iter_commits("main", paths="articles/hist.yaml"):
            (commit.tree / "articles/hist.yaml").data_stream.read()

    tree_ms = timed(tree_read_all, 1)
    repo.close()
    return {
        "history": {"wikicore": summary(history_ms), "gitpython_iter_commits": summary(iter_ms)},
        "read_all": {"wikicore_load_text": summary(read_ms), "wikicore_load_parsed": summary(parse_ms),
                     "gitpython_commit_tree_path": summary(tree_ms)},
    }


def bench_diff(tmp: Path, repeat: int) -> dict[str, Any]:
    old = big_article("big")
    new = edited(old)
    assert len(old.claims()) == 500
    result = diff_articles(old, new)
    diff_ms = timed(lambda: diff_articles(old, new), repeat)
    wiki = Wiki.init(tmp / "wikidiff")
    first = wiki.save(old, "old")
    wiki.save(new, "new", base=first.id)
    end_to_end = timed(lambda: wiki.diff("big"), max(3, repeat // 4))
    wiki.close()
    return {"diff_articles": summary(diff_ms), "wiki_diff_with_load_and_parse": summary(end_to_end),
            "summary": result.summary.model_dump()}


# --- the store at scale: 1k to 100k articles ----------------------------------------------


def build_wiki(path: Path, articles: int, layout: int, revisions: int = 0, seed: int = 5) -> Wiki:
    """A wiki of ``articles`` small articles in one commit, then ``revisions`` one-article edits, via fast-import."""
    wiki = Wiki.init(path)
    if layout == LAYOUT_FLAT:
        (wiki.state_dir / "layout").unlink()
    template = dumps(small_article("article-000000"))
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE, env=GIT_ENV)
    assert proc.stdin is not None
    out = proc.stdin
    out.write(b"commit refs/heads/main\ncommitter Bench <bench@localhost> 1700000000 +0000\ndata 6\nImport\n")
    for i in range(articles):
        slug = f"article-{i:06d}"
        data = template.replace("article-000000", slug).replace("Article 000000", f"Article {i:06d}").encode()
        out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path_of(slug, layout).encode(), len(data), data))
    out.write(b"\n")
    rng = random.Random(seed)
    for r in range(revisions):
        slug = f"article-{rng.randrange(articles):06d}" if r % 1000 else "article-000001"
        data = template.replace("article-000000", slug).replace("Claim 0 ", f"Claim 0 rev {r} ").encode()
        msg = f"revision {r}".encode()
        out.write(b"commit refs/heads/main\ncommitter Bench <bench@localhost> %d +0000\ndata %d\n%s\n"
                  % (1_700_000_001 + r, len(msg), msg))
        out.write(b"M 100644 inline %s\ndata %d\n%s\n\n" % (path_of(slug, layout).encode(), len(data), data))
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    return wiki


def loose_bytes(objects: Path) -> int:
    total = 0
    for folder in objects.iterdir():
        if len(folder.name) == 2:
            total += sum(entry.stat().st_size for entry in os.scandir(folder))
    return total


def bench_scale_saves(tmp: Path, articles: int, layout: int, edits: int, news: int) -> dict[str, Any]:
    wiki = build_wiki(tmp / f"scale-{layout}-{articles}", articles, layout)
    objects = wiki.common_dir / "objects"
    rng = random.Random(7)
    wiki.save(small_article("warm-up"), "warm up: builds the collision index")
    edit_ms, edit_bytes = [], []
    for n in range(edits):
        slug = f"article-{rng.randrange(articles):06d}"
        article = wiki.load(slug)
        latest = wiki.latest(slug)
        data = article.model_dump(exclude_defaults=True)
        data["lead"][0]["claims"][0]["text"] += f"Edit {n}. "
        changed = Article.model_validate(data)
        before = loose_bytes(objects)
        start = time.perf_counter()
        wiki.save(changed, f"edit {n}", base=latest.id if latest else None)
        edit_ms.append((time.perf_counter() - start) * 1000)
        edit_bytes.append(loose_bytes(objects) - before)
    new_ms = []
    for n in range(news):
        fresh = small_article(f"new-article-{n}")
        start = time.perf_counter()
        wiki.save(fresh, f"new {n}")
        new_ms.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    count = len(wiki.list())
    list_ms = (time.perf_counter() - start) * 1000
    wiki.close()
    return {"articles": articles, "layout": layout, "edit": summary(edit_ms), "new": summary(new_ms),
            "objects_bytes_per_save_median": int(statistics.median(edit_bytes)), "list_ms": round(list_ms, 1),
            "listed": count}


def bench_bulk(tmp: Path, library_articles: int, cli_files: int) -> dict[str, Any]:
    wiki = Wiki.init(tmp / "bulk")
    batch = [small_article(f"bulk-{i:06d}") for i in range(library_articles)]
    start = time.perf_counter()
    wiki.import_articles(batch, "bulk")
    library_s = time.perf_counter() - start
    folder = tmp / "bulk-files"
    folder.mkdir()
    for i in range(cli_files):
        (folder / f"file-{i:06d}.yaml").write_text(dumps(small_article(f"file-{i:06d}")), encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "wikicore", "--wiki", str(wiki.path), "import", str(folder)],
                          capture_output=True, text=True, check=False)
    cli_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    wiki.close()
    return {"library_articles": library_articles, "library_s": round(library_s, 2),
            "library_per_s": round(library_articles / library_s), "cli_files": cli_files, "cli_s": round(cli_s, 2),
            "cli_per_s": round(cli_files / cli_s)}


def bench_big_history(tmp: Path, articles: int, revisions: int, repeat: int) -> dict[str, Any]:
    wiki = build_wiki(tmp / "bighist", articles, LAYOUT_SHARDED, revisions=revisions)
    # A wiki that grew by saves has been repacked and its commit-graph written by the store's housekeeping
    # many times over; one built by a raw fast-import has not, so do it once, as the store would have.
    wiki.maintain()
    history_ms = timed(lambda: wiki.history("article-000001"), repeat)
    count = len(wiki.history("article-000001"))
    latest_ms = timed(lambda: wiki.latest_revisions(), 1)
    wiki.close()
    return {"articles": articles, "revisions": revisions, "article_revisions": count,
            "history": summary(history_ms), "latest_revisions_all": summary(latest_ms)}


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_disk(tmp: Path, articles: int, saves: int) -> dict[str, Any]:
    """Disk use of ``saves`` one-claim edits into a wiki of ``articles``: with the store's housekeeping,
    against the same objects left loose (what ``gc.auto=0`` without housekeeping kept)."""
    wiki = build_wiki(tmp / "disk", articles, LAYOUT_SHARDED)
    wiki.maintain()
    start_bytes = dir_bytes(wiki.common_dir / "objects")
    objects = wiki.common_dir / "objects"
    written = 0
    rng = random.Random(11)
    for n in range(saves):
        slug = f"article-{rng.randrange(articles):06d}"
        data = wiki.load(slug).model_dump(exclude_defaults=True)
        data["lead"][0]["claims"][0]["text"] += f"Edit {n}. "
        latest = wiki.latest(slug)
        before = loose_bytes(objects)
        wiki.save(Article.model_validate(data), f"edit {n}", base=latest.id if latest else None)
        after = loose_bytes(objects)
        if after >= before:  # a repack empties the loose objects: count only what this save added
            written += after - before
    end_bytes = dir_bytes(objects)
    packs = len(list(objects.glob("pack/pack-*.pack")))
    wiki.close()
    return {"articles": articles, "saves": saves, "objects_before_bytes": start_bytes,
            "objects_after_bytes": end_bytes, "loose_bytes_written": written, "packs": packs}


def scale_main(quick: bool, huge: bool) -> None:
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000] + ([300_000] if huge else [])
    edits, news = (8, 5) if quick else (25, 15)
    results: dict[str, Any] = {"benchmark": "bench_store_scale", "quick": quick, "wikicore": __version__,
                               "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "machine": f"{platform.machine()} {os.cpu_count()} CPUs", "saves": []}
    with tempfile.TemporaryDirectory(prefix="wikicore-bench-") as name:
        tmp = Path(name)
        for articles in sizes:
            for layout in (LAYOUT_SHARDED, LAYOUT_FLAT):
                if layout == LAYOUT_FLAT and articles > 100_000:
                    continue
                row = bench_scale_saves(tmp, articles, layout, edits if layout == LAYOUT_SHARDED else 5,
                                        news if layout == LAYOUT_SHARDED else 3)
                results["saves"].append(row)
                print(f"{articles:>8,} articles, layout {layout}: edit {row['edit']['median_ms']:.1f} ms, "
                      f"new {row['new']['median_ms']:.1f} ms, {row['objects_bytes_per_save_median'] / 1024:.1f} KiB "
                      f"of objects per save, list {row['list_ms']:.0f} ms", flush=True)
                shutil.rmtree(tmp / f"scale-{layout}-{articles}", ignore_errors=True)
        results["bulk"] = bench_bulk(tmp, 1_000 if quick else 5_000, 500 if quick else 2_000)
        print(f"bulk import: library {results['bulk']['library_per_s']:,} articles/s, "
              f"CLI import DIR {results['bulk']['cli_per_s']:,} files/s", flush=True)
        big = (2_000, 2_000) if quick else (10_000, 10_000)
        results["history"] = bench_big_history(tmp, *big, repeat=5)
        print(f"history of one article in {big[0]:,} articles x {big[1]:,} revisions: "
              f"{results['history']['history']['median_ms']:.0f} ms (median of 5); latest revision of every "
              f"article in one walk: {results['history']['latest_revisions_all']['median_ms']:.0f} ms", flush=True)
    write_results("bench_store_scale" + ("-quick" if quick else ""), results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smaller wiki and fewer runs (a smoke test).")
    parser.add_argument("--scale", action="store_true", help="The store at 1k-100k articles.")
    parser.add_argument("--huge", action="store_true", help="With --scale: 300k articles too.")
    parser.add_argument("--disk", type=int, metavar="SAVES", help="Disk use of SAVES edits into 10k articles.")
    args = parser.parse_args()
    if args.disk:
        with tempfile.TemporaryDirectory(prefix="wikicore-bench-") as name:
            row = bench_disk(Path(name), 10_000, args.disk)
        before, after = row["objects_before_bytes"] / 2**20, row["objects_after_bytes"] / 2**20
        print(f"{row['saves']:,} saves into {row['articles']:,} articles: objects {before:.1f}"
              f" -> {after:.1f} MiB with housekeeping ({row['packs']} packs); "
              f"{row['loose_bytes_written'] / 2**20:.1f} MiB of loose objects were written")
        write_results("bench_store_disk", row)
        return
    if args.scale:
        scale_main(args.quick, args.huge)
        return
    articles, saves, baseline, revisions, repeat = (
        (1_000, 10, 3, 200, 3) if args.quick else (10_000, 50, 10, 1_000, 10)
    )
    with tempfile.TemporaryDirectory(prefix="wikicore-bench-") as name:
        tmp = Path(name)
        saves_result = bench_saves(tmp, articles, saves, baseline)
        history_result = bench_history(tmp, revisions, repeat)
        diff_result = bench_diff(tmp, repeat * 3)
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    results = {
        "benchmark": "bench_store", "quick": args.quick, "wikicore": __version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "git": git_version, "gitpython": git.__version__,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "sizes": {"articles": articles, "saves": saves, "revisions": revisions, "diff_claims": 500},
        "targets_ms": TARGETS_MS,
        "save": saves_result, **history_result, "diff": diff_result,
    }
    rows = [
        (f"save into {articles:,} articles (median)", saves_result["wikicore"]["median_ms"],
         saves_result["gitpython_index_commit"]["median_ms"], TARGETS_MS["save_10k"]),
        (f"history, {revisions:,} revisions", history_result["history"]["wikicore"]["median_ms"],
         history_result["history"]["gitpython_iter_commits"]["median_ms"], TARGETS_MS["history_1000"]),
        (f"read all {revisions:,} revisions", history_result["read_all"]["wikicore_load_text"]["median_ms"],
         history_result["read_all"]["gitpython_commit_tree_path"]["median_ms"], TARGETS_MS["read_1000"]),
        ("diff, 500-claim article", diff_result["diff_articles"]["median_ms"], None, TARGETS_MS["diff_500_claims"]),
        ("  wiki.diff incl. load+parse", diff_result["wiki_diff_with_load_and_parse"]["median_ms"], None, None),
        (f"  load+parse all {revisions:,} revs", history_result["read_all"]["wikicore_load_parsed"]["median_ms"],
         None, None),
    ]
    print(f"{'operation':<36} {'wikicore ms':>12} {'GitPython ms':>13} {'target ms':>10}")
    for label, ours, theirs, target in rows:
        print(f"{label:<36} {ours:>12.1f} {'' if theirs is None else f'{theirs:.1f}':>13} "
              f"{'' if target is None else f'{target:.0f}':>10}")
    write_results("bench_store" + ("-quick" if args.quick else ""), results)


if __name__ == "__main__":
    main()
