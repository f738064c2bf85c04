"""``make demo``: wikicore's main job on bundled data, offline, in under a minute.

It runs the real ``wikicore`` command for every step and shows each command
before its output, so a newcomer can repeat any of them by hand:

1. import the bundled seed article into a fresh wiki and summarise it;
2. edit it (cite a source, fix a typo) and save a second revision from its base;
3. show the two-revision history and the semantic diff;
4. audit the seed offline: it has no URLs, so only the static findings;
5. audit a second bundled article whose references point at a small misbehaving
   web server and a Wayback-compatible archive that this script starts on
   127.0.0.1 (:func:`start_servers`), showing live, dead, archived, soft-404 and
   blocked verdicts, and whether each quoted source still says it: a quote found
   on the live page, found in the capture of a dead page, changed (in the
   capture, gone from the live page), missing, and unchecked (a dead page with no
   capture, a paywall);
6. rescue its dead links from the archive as a reviewable commit.

Everything it writes goes to ``.demo/`` in the current directory (the wiki, ``diff.html``,
``audit.html``), or to ``$WIKICORE_DEMO_DIR`` when set (the test suite runs the demo that way).
Its two articles ship inside the package (``wikicore/demo_data/``), so ``python -m
wikicore.demo`` works from an installed wikicore, outside any checkout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .importers import import_path
from .output import write_file
from .serialize import dump_path

if TYPE_CHECKING:
    from .testing.wayback import FakeWayback
    from .testing.web import LocalWeb

#: Where the demo runs its commands; paths under it are shown relative to it.
ROOT = Path.cwd()
OUT = Path(os.environ.get("WIKICORE_DEMO_DIR") or ROOT / ".demo").absolute()
#: The demo's articles, package data (copies of tests/data/000_38cc082d7ed7b8e7.txt and
#: articles/link-rot-demo.yaml; a test holds them identical).
DATA = Path(__file__).resolve().parent / "demo_data"
SEED = DATA / "000_38cc082d7ed7b8e7.txt"
LINK_ROT = DATA / "link-rot-demo.yaml"
#: The ports the bundled link-rot article names; others are used (and the urls rewritten) when busy.
WEB_PORT, WAYBACK_PORT = 8765, 8766

AUTHOR = "Demo Editor <editor@example.org>"


def _captured(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


def snapshots(host: str) -> list[dict[str, str]]:
    """The archive's captures of the demo's pages on ``host``, as they read when captured (our own words).

    The blog post's capture still has the sentence the live post rewrote (a quote
    ``changed``); the study's, the page that is gone now (``found`` in the archive);
    the report's, a text without the words one citation puts in its mouth (``missing``).
    """
    return [
        {
            "url": f"http://{host}/news/2019/link-study",
            "timestamp": "20190612093000",
            "html": _captured(
                "Study finds a quarter of links in old articles are gone",
                "Researchers followed every link in 3,000 articles published before 2010 and found that one in "
                "four no longer led to the page that had been cited.",
                "Most of the lost pages had moved when their sites were redesigned.",
            ),
        },
        {
            "url": f"http://{host}/page/web-archiving",
            "timestamp": "20200115120000",
            "html": _captured(
                "Why we archive the web",
                "A citation is only as good as the page it points to. When a page disappears, the claim it "
                "supported loses its evidence, and readers can no longer check it.",
                "Web archives take copies of pages as they are published, so that a citation can still be "
                "checked after the page is gone.",
            ),
        },
        {
            "url": f"http://{host}/soft/annual-report-2018",
            "timestamp": "20180301000000",
            "html": _captured(
                "Annual report 2018",
                "The foundation checked the references of its reading lists twice this year.",
                "Broken links remain a problem that grows with the age of a list.",
            ),
        },
    ]


def start_servers() -> tuple[LocalWeb, FakeWayback]:
    """The demo's local web and archive on 127.0.0.1: the ports the bundled article names, others when busy.

    The test suite starts the same two to audit the bundled article in every format.
    """
    from .testing.wayback import FakeWayback
    from .testing.web import LocalWeb

    try:
        web = LocalWeb(port=WEB_PORT)
    except OSError:
        web = LocalWeb()
    try:
        try:
            wayback = FakeWayback(snapshots(web.hosts[0]), port=WAYBACK_PORT)
        except OSError:
            wayback = FakeWayback(snapshots(web.hosts[0]))
    except BaseException:
        web.close()
        raise
    return web, wayback


def link_rot_text(web: LocalWeb) -> str:
    """The bundled link-rot article with its urls pointing at ``web`` (whatever port it got)."""
    return LINK_ROT.read_text(encoding="utf-8").replace(f"127.0.0.1:{WEB_PORT}", web.hosts[0])


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def heading(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def run(args: Sequence[str | Path], *, ok: Sequence[int] = (0,), limit: int | None = None) -> str:
    """Run ``wikicore ARGS`` as a user would, echo it and its output, return stdout."""
    args = [_shown(a) if isinstance(a, Path) else a for a in args]
    shown = " ".join(shlex.quote(str(a)) for a in args)
    print(f"$ wikicore {shown}", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "wikicore", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    lines = result.stdout.splitlines()
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], f"… ({len(lines) - limit} more lines)"]
    for line in lines:
        print(f"  {line}")
    for line in result.stderr.splitlines()[:12]:
        print(f"  {line}")
    if result.returncode not in ok:
        raise SystemExit(f"demo step failed with exit status {result.returncode}: wikicore {shown}")
    print(f"  (exit status {result.returncode})", flush=True)
    return result.stdout


def summarise_seed() -> None:
    article = import_path(SEED, "text")
    sections = list(article.iter_sections())
    claims = article.claims()
    warnings = article.source.warnings if article.source else []
    print(f"  title      {article.title} (alias: {', '.join(article.aliases)})")
    print(f"  sections   {len(article.sections)} top-level, {len(sections)} in all")
    print(f"  claims     {len(claims)}, of which cited: {sum(1 for c in claims if c.citations)}")
    refs = article.references
    print(
        f"  references {len(refs)}: {sum(1 for r in refs if r.isbn)} with an ISBN, "
        f"{sum(1 for r in refs if r.url)} with a url, {sum(1 for r in refs if r.archive_date)} with an archive date"
    )
    print(f"  see also   {len(article.see_also)} titles; media {len(article.media)}")
    print(f"  warnings   {len(warnings)} (what the copy lost; nothing was guessed):")
    for warning in warnings[:6]:
        print(f"    - {warning}")
    if len(warnings) > 6:
        print(f"    … and {len(warnings) - 6} more")


def edit_seed(wiki: Path, slug: str) -> Path:
    """An editor's change: cite the Swietochowski book for the first history claim, fix "バク"."""
    from .models import Citation
    from .store import Wiki

    with Wiki.open(wiki) as store:
        article = store.load(slug)

    first = article.sections[0].sections[0].paragraphs[0].claims[0]
    first.citations.append(Citation(ref="ref-1", locator="69"))
    for _, claim in article.iter_claims():
        if claim.text.startswith("ロシアはバクに大使館があり"):
            claim.text = claim.text.replace("ロシアはバクに", "ロシアはバクーに", 1)
    edited = OUT / f"{slug}.yaml"
    dump_path(article, edited)
    return edited


def main() -> int:
    marker = OUT / ".wikicore-demo"
    ours = marker.exists() or (OUT / "wiki" / ".wikicore").is_dir()  # the mark, or an older demo's wiki
    if OUT.exists() and any(OUT.iterdir()) and not ours:
        # Never delete a folder the demo did not make (`.demo` is a plausible name for anything).
        raise SystemExit(f"{OUT} exists and was not made by the demo; move it or set WIKICORE_DEMO_DIR")
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    write_file(marker, "made by `python -m wikicore.demo`; removed and rebuilt by each run\n")
    wiki = OUT / "wiki"
    slug = "azerbaijan-russia-relations"

    heading("1. A fresh wiki, and the seed article imported into it")
    run(["--wiki", wiki, "init"])
    out = run(["--wiki", wiki, "import", SEED, "--from", "text", "-m", "Import the seed article", "--author", AUTHOR])
    first = out.split()[-1] if out.split() else "HEAD"
    summarise_seed()

    heading("2. An edit saved from its base revision (a stale base would be refused with exit 3)")
    edited = edit_seed(wiki, slug)
    run(["--wiki", wiki, "save", edited, "--base", first, "-m", "Cite Swietochowski; fix Baku", "--author", AUTHOR])
    run(["--wiki", wiki, "history", slug])

    heading("3. What the edit did, claim by claim")
    run(["--wiki", wiki, "diff", slug])
    run(["--wiki", wiki, "diff", slug, "--format", "html", "-o", OUT / "diff.html"])

    heading("4. Audit of the seed, offline: no URLs survive, so only static findings")
    run(["--wiki", wiki, "audit", slug, "--offline", "--format", "markdown"], ok=(0, 1), limit=30)

    heading("5. Audit of a link-rot example against a local web and a local Wayback Machine")
    web, wayback = start_servers()
    with web, wayback:
        local = OUT / "link-rot-demo.yaml"
        write_file(local, link_rot_text(web))
        run(["--wiki", wiki, "import", local, "-m", "Add the link-rot example", "--author", AUTHOR])
        live = ["--allow-private", "--wayback-url", wayback.base_url, "--timeout", "5"]
        # The HTML report comes first, from a cold cache (the wiki is new each run): it shows what
        # this audit checked, not "reused" verdicts of an earlier audit in the same demo.
        run(["--wiki", wiki, "audit", "link-rot-demo", *live, "--format", "html", "-o", OUT / "audit.html", "-q"],
            ok=(0, 1))
        print("  (the same audit as text: within a day, its verdicts come from the wiki's link history)")
        run(["--wiki", wiki, "audit", "link-rot-demo", *live], ok=(0, 1), limit=80)

        heading("6. Rescue: archive links filled in from existing snapshots, as a commit to review")
        run(["--wiki", wiki, "archive", "link-rot-demo", "--wayback-url", wayback.base_url, "--author", AUTHOR])
        run(["--wiki", wiki, "diff", "link-rot-demo"], limit=30)

    heading("Done")
    print(f"  wiki: {_shown(wiki)}   reports: {_shown(OUT / 'diff.html')}, {_shown(OUT / 'audit.html')}")
    print(f"  try:  wikicore --wiki {shlex.quote(str(_shown(wiki)))} blame azerbaijan-russia-relations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
