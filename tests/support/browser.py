"""Open a report in headless Chromium (Debian's, driven by Playwright) and measure what a reader sees.

Chromium is the system's (``/usr/bin/chromium``, or ``$WIKICORE_CHROMIUM``); Playwright's own
browser download is never used. :func:`chromium` returns None when either is missing, so the
tests skip cleanly; ``make test`` installs the driver and ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Launch flags that work in a container as root: no sandbox, no GPU, and nothing that phones home.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

#: The widths a reader uses: a laptop and a phone (iPhone 12-15: 390 x 844 CSS pixels).
VIEWPORTS = {"1280": (1280, 800), "390": (390, 844)}


def chromium_path() -> str | None:
    """The system Chromium, or None; ``$WIKICORE_CHROMIUM``, when set, is the only one tried."""
    override = os.environ.get("WIKICORE_CHROMIUM")
    candidates = [override] if override else [shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def artifacts_dir(default: Path) -> Path:
    """Where screenshots go: ``$WIKICORE_ARTIFACTS`` when set (CI keeps it), else ``default``."""
    root = Path(os.environ["WIKICORE_ARTIFACTS"]) if os.environ.get("WIKICORE_ARTIFACTS") else default
    root.mkdir(parents=True, exist_ok=True)
    return root


#: Runs in the page after load (Playwright's evaluate is not subject to the page's CSP).
MEASURE = r"""
(summarySelector) => {
  const vw = document.documentElement.clientWidth;
  const describe = (el) => (el.outerHTML || "").slice(0, 160);
  const result = {
    viewport: [window.innerWidth, window.innerHeight], clientWidth: vw,
    scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
    styled: getComputedStyle(document.body).maxWidth !== "none",
    stylesheets: document.styleSheets.length,
    summary: null, tooWideCells: [], overflowingCells: [], offscreen: [], brokenTokens: [], badLinks: [],
    links: 0, cells: 0, tokens: 0,
  };
  const summary = document.querySelector(summarySelector);
  if (summary) {
    const r = summary.getBoundingClientRect();
    result.summary = {top: r.top, bottom: r.bottom, height: r.height};
  }
  for (const cell of document.querySelectorAll("td, th")) {
    if (!cell.getClientRects().length) continue;
    result.cells++;
    const table = cell.closest("table");
    const c = cell.getBoundingClientRect(), t = table.getBoundingClientRect();
    const p = table.parentElement.getBoundingClientRect();
    if (c.right > t.right + 1 || c.left < t.left - 1 || t.right > p.right + 1 || t.left < p.left - 1) {
      result.tooWideCells.push(describe(cell));
    }
    if (cell.scrollWidth > cell.clientWidth + 1) result.overflowingCells.push(describe(cell));
  }
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > vw + 1 || r.left < -1)) result.offscreen.push(describe(el));
  }
  // A token (a check's code, an id, a status, a date) must sit on one line: its text's line
  // boxes all share one top. Inside closed <details> nothing renders, so the caller opens them.
  for (const el of document.querySelectorAll("code.check, .tok, .nw")) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (tops.size) result.tokens++;
    if (tops.size > 1) result.brokenTokens.push(el.textContent);
  }
  for (const a of document.querySelectorAll("a[href]")) {
    result.links++;
    const href = a.getAttribute("href");
    if (href.startsWith("#")) {
      if (!document.getElementById(decodeURIComponent(href.slice(1)))) result.badLinks.push(href);
    } else if (!/^https?:\/\//i.test(href) || !/^https?:$/.test(a.protocol)) {
      result.badLinks.push(href);
    }
  }
  return result;
}
"""


@dataclass
class Visit:
    """What one page load showed: measurements, console messages and every request made."""

    name: str
    width: str
    measures: dict[str, Any]
    expanded: dict[str, Any]
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)


class Browser:
    """One headless Chromium with a fresh profile, for the length of a test module."""

    def __init__(self, context: Any) -> None:
        self.context = context

    def visit(self, html: Path, name: str, width: str, out: Path, summary: str = "#summary") -> Visit:
        """Load ``html`` at a viewport, screenshot it as a reader sees it and fully expanded, measure both."""
        w, h = VIEWPORTS[width]
        page = self.context.new_page()
        console: list[str] = []
        requests: list[str] = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        page.on("request", lambda req: requests.append(req.url))
        try:
            page.set_viewport_size({"width": w, "height": h})
            page.goto(html.resolve().as_uri(), wait_until="load")
            measures = page.evaluate(MEASURE, summary)
            shots = [out / f"{name}-{width}.png", out / f"{name}-{width}-fold.png"]
            page.screenshot(path=str(shots[0]), full_page=True)
            page.screenshot(path=str(shots[1]), full_page=False)
            page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
            expanded = page.evaluate(MEASURE, summary)
            shots.append(out / f"{name}-{width}-expanded.png")
            page.screenshot(path=str(shots[2]), full_page=True)
        finally:
            page.close()
        return Visit(name, width, measures, expanded, console, requests, shots)


@contextmanager
def browser(executable: str) -> Iterator[Browser]:
    """Start Chromium through Playwright with the given executable and a throwaway profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="wikicore-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=FLAGS, offline=True,
        )
        try:
            yield Browser(context)
        finally:
            context.close()
