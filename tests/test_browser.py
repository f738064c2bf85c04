"""Every HTML output (audit, diff, blame, history) opened in headless Chromium at 1280 and 390 px.

What a reader needs, measured in the real browser: nothing wider than the page, no table cell
wider than its table, the summary above the fold, tokens (check codes, ids, dates) never broken
mid-word, every link http(s) or an anchor that exists, the page's stylesheet applied (its CSP
hash matches), no console error (a CSP violation would be one) and no request but the file.

Screenshots (full page, the first screen, and with every ``<details>`` opened) are kept under
``$WIKICORE_ARTIFACTS/screenshots`` (``make test`` sets ``artifacts/``), else a pytest tmp dir.
Skips cleanly when Chromium or Playwright is missing; ``.ci/run`` and ``make test`` install them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.report.audit import render_html

from .servers.hostile_web import HostileWeb
from .servers.wayback import FakeWayback
from .support.browser import VIEWPORTS, Browser, Visit, artifacts_dir, browser, chromium_path
from .support.report_data import LONG_CYRILLIC, hostile_wiki, live_audit

CHROMIUM = chromium_path()

OUTPUTS = ("audit", "diff", "blame", "history")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Chromium for this module; the tests that need it skip cleanly without it or without Playwright."""
    if CHROMIUM is None:
        pytest.skip("no system Chromium (apt-get install chromium fonts-noto-cjk)")
    pytest.importorskip("playwright.sync_api", reason="the browser extra (Playwright) is not installed")
    with browser(CHROMIUM) as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artifacts_dir(tmp_path_factory.mktemp("artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The four HTML outputs: a live audit on loopback, and diff, blame, history through the CLI."""
    root = tmp_path_factory.mktemp("html")
    with HostileWeb() as web, FakeWayback() as wayback:
        report = live_audit(web, wayback, root / "checks.sqlite")
    (root / "audit.html").write_text(render_html(report), encoding="utf-8")
    wiki, slug = hostile_wiki(root / "wiki")
    revisions = [rev.id for rev in wiki.history(slug)]
    runner = CliRunner()
    commands = {
        "diff": ["diff", slug, revisions[-1], revisions[0]],
        "blame": ["blame", slug],
        "history": ["history", slug],
    }
    for name, args in commands.items():
        out = root / f"{name}.html"
        result = runner.invoke(main, ["--wiki", str(root / "wiki"), *args, "--format", "html", "-o", str(out)])
        assert result.exit_code == 0, result.output
    return {name: root / f"{name}.html" for name in OUTPUTS}


def _problems(measures: dict[str, object]) -> dict[str, object]:
    keys = ("tooWideCells", "overflowingCells", "offscreen", "brokenTokens", "badLinks")
    return {key: measures[key] for key in keys if measures[key]}


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("name", OUTPUTS)
def test_a_reader_sees_the_whole_page(
    chromium: Browser, pages: dict[str, Path], shots: Path, name: str, width: str
) -> None:
    shots.mkdir(parents=True, exist_ok=True)
    visit: Visit = chromium.visit(pages[name], name, width, shots)
    view_width, view_height = VIEWPORTS[width]

    # Self-contained: the file is the only request, nothing was refused (a CSP violation logs an
    # error), and the one stylesheet applied, so its hash in the CSP is right.
    assert [url for url in visit.requests if not url.startswith("file://")] == []
    assert [line for line in visit.console if line.startswith(("error", "warning"))] == []
    for measures in (visit.measures, visit.expanded):
        assert measures["styled"] and measures["stylesheets"] == 1
        assert measures["clientWidth"] == view_width
        # No horizontal overflow: not the document, no element, no table cell.
        assert measures["scrollWidth"] <= view_width, measures
        assert _problems(measures) == {}, f"{name} at {width} px: {_problems(measures)}"
        assert measures["cells"] > 0 and measures["tokens"] > 0
    # The summary is above the fold: it starts on the first screen and ends on it.
    summary = visit.measures["summary"]
    assert isinstance(summary, dict), f"{name} has no #summary"
    assert 0 <= summary["top"] and summary["bottom"] <= view_height, summary
    for shot in visit.screenshots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000


def test_the_audit_page_shows_its_summary_and_the_hard_data(pages: dict[str, Path]) -> None:
    """The summary's parts are on the page, and the hard data really is in it."""
    page = pages["audit"].read_text(encoding="utf-8")
    summary = page.split('<section class="summary"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in summary and "Link health" in summary and "Claims cited" in summary
    for status in ("live", "dead", "soft-404", "blocked", "error", "unchecked"):
        assert f'<span class="sw c-{status}"></span>{status} <strong>' in summary
    assert "Findings per check" in summary and '<code class="tok check">link-dead</code>' in summary
    assert page.count("<details") >= 8 and LONG_CYRILLIC in page
