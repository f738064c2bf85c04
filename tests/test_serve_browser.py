"""The review site in Chromium (Debian's, through Playwright) at 1280 and 390 px, served by a real server.

The report tests' measurements and assertions (tests/browser.py's MEASURE): no
horizontal overflow, no cell wider than its table, tokens on one line, the
summary above the fold, the one stylesheet applied under the CSP, no console
error. Then a reader's path: recent changes -> a diff -> the article. Every
request the browser makes is checked to stay on 127.0.0.1; anything else is
aborted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from .support.browser import FLAGS, MEASURE, VIEWPORTS, artifacts_dir, chromium_path
from .support.report_data import hostile_wiki
from .support.serve_helpers import Server, serving

pytest.importorskip("fastapi", reason="the serve extra is not installed")

CHROMIUM = chromium_path()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, list[str]]]:
    root = tmp_path_factory.mktemp("site")
    wiki, slug = hostile_wiki(root / "wiki")
    revisions = [rev.id for rev in wiki.history(slug)]
    wiki.close()
    with serving(root / "wiki", log_dir=root) as server:
        yield server, slug, revisions


@pytest.fixture(scope="module")
def context(site: tuple[Server, str, list[str]]) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium fonts-noto-cjk)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser extra (Playwright) is not installed")
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with tempfile.TemporaryDirectory(prefix="wikicore-chromium-") as profile, sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS)
        browser.route("**/*", only_loopback)
        try:
            yield browser
        finally:
            browser.close()
    assert outside == []


def _pages(slug: str, revisions: list[str]) -> dict[str, str]:
    new, old = revisions[0], revisions[-1]
    return {
        "recent": "/", "article": f"/a/{slug}", "history": f"/a/{slug}/history", "revision": f"/a/{slug}/rev/{old}",
        "diff": f"/a/{slug}/compare/{old}/{new}", "blame": f"/a/{slug}/blame", "findings": f"/a/{slug}/findings",
    }


def _problems(measures: dict[str, Any]) -> dict[str, Any]:
    keys = ("tooWideCells", "overflowingCells", "offscreen", "brokenTokens", "badLinks")
    return {key: measures[key] for key in keys if measures[key]}


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("name", ["recent", "article", "history", "revision", "diff", "blame", "findings"])
def test_every_review_page_reads_at_both_widths(
    context: Any, site: tuple[Server, str, list[str]], tmp_path_factory: pytest.TempPathFactory, name: str, width: str,
) -> None:
    server, slug, revisions = site
    shots = artifacts_dir(tmp_path_factory.mktemp("artifacts")) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    w, h = VIEWPORTS[width]
    page = context.new_page()
    console: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.set_viewport_size({"width": w, "height": h})
        response = page.goto(server.url + _pages(slug, revisions)[name], wait_until="load")
        assert response is not None and response.status == 200
        measures = page.evaluate(MEASURE, "#summary")
        page.screenshot(path=str(shots / f"serve-{name}-{width}.png"), full_page=True)
    finally:
        page.close()
    assert [url for url in requests if not url.startswith(server.url)] == []
    assert [line for line in console if line.startswith(("error", "warning"))] == []
    assert measures["styled"] and measures["stylesheets"] == 1
    assert measures["clientWidth"] == w and measures["scrollWidth"] <= w, measures
    assert _problems(measures) == {}, f"{name} at {width} px: {_problems(measures)}"
    assert measures["cells"] > 0 and measures["tokens"] > 0 and measures["links"] > 0
    summary = measures["summary"]
    assert isinstance(summary, dict), f"{name} has no #summary"
    assert 0 <= summary["top"] and summary["bottom"] <= h, summary


def test_a_reader_follows_recent_changes_to_a_diff_to_the_article(
    context: Any, site: tuple[Server, str, list[str]],
) -> None:
    server, slug, _ = site
    page = context.new_page()
    try:
        page.goto(server.url + "/", wait_until="load")
        page.click("a.diff >> nth=0")
        page.wait_for_load_state("load")
        assert f"/a/{slug}/compare/" in page.url
        assert page.locator("h1").first.inner_text().startswith("Diff")
        page.click(f'nav a[href$="/a/{slug}"]')
        page.wait_for_load_state("load")
        assert page.url == f"{server.url}/a/{slug}"
        assert page.locator("#summary").inner_text().startswith("latest revision")
        page.click("nav >> text=history")
        page.wait_for_load_state("load")
        page.click("a.diff >> nth=0")
        page.wait_for_load_state("load")
        assert "/compare/" in page.url
    finally:
        page.close()
