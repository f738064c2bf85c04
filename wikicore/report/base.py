"""What every report shares: the escaping rule, the stylesheet, the CSP and the HTML page frame.

Text from a wiki, a dump or the web (titles, claims, commit messages, author
names, urls, server messages) is untrusted wherever it is shown:

* on a terminal, C0 and C1 control characters (ESC starts the sequences that
  move the cursor, retitle the window or rewrite the screen), line and
  paragraph separators, and the bidi embeddings, overrides and isolates that
  make a url or a name read as another ("Trojan Source", CVE-2021-42574) are
  shown as ``\\uXXXX`` escapes, never obeyed. One function,
  :func:`terminal`, does it for every command; :func:`terminal_text` keeps the
  newlines and tabs of multi-line text such as an article shown as text.
  The bidi *marks* (LRM, RLM, ALM) stay: they cannot reorder strong
  characters, and right-to-left articles use them legitimately.
* in HTML the same characters are shown as escapes and then
  :func:`html.escape` makes the text inert; only http(s) urls become links.

Every HTML page is one self-contained file: one inline stylesheet allowed by
its SHA-256 hash in the Content-Security-Policy (no ``'unsafe-inline'``, so no
injected ``style`` attribute or element would apply), no scripts, fonts or
images beyond inline SVG, and nothing fetched from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

__all__ = [
    "CSP",
    "CSS",
    "attr",
    "esc",
    "json_text",
    "link",
    "linkable",
    "page",
    "robust_link",
    "terminal",
    "terminal_text",
]

# C0 (tab and newline kept by terminal_text), DEL, C1 (0x9b is a one-byte CSI), U+2028/U+2029,
# bidi embeddings and overrides (U+202A..U+202E) and isolates (U+2066..U+2069).
_UNSAFE_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(pattern: re.Pattern[str], text: object) -> str:
    value = "" if text is None else str(text)
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def terminal(text: object) -> str:
    """One terminal line: control, escape, line-breaking and bidi characters shown as ``\\uXXXX``.

    For every field printed on a line of its own or mid-line (a title, a commit
    message's subject, an author, a url): a newline inside it must not forge
    another line of output.
    """
    return _visible(_UNSAFE, text)


def terminal_text(text: object) -> str:
    """Multi-line text for a terminal: like :func:`terminal`, but newlines and tabs stay."""
    return _visible(_UNSAFE_KEEP_LINES, text)


def json_text(document: str) -> str:
    """JSON text safe on a terminal and still the same data: unsafe characters as JSON ``\\uXXXX`` escapes.

    They can occur only inside strings (a serializer escapes C0 there but passes C1 and bidi
    controls through), where ``\\uXXXX`` means the same character, so the document parses to
    exactly what it held; structural newlines and indentation are kept.
    """
    return _visible(_UNSAFE_KEEP_LINES, document)


def esc(text: object) -> str:
    """Text for HTML content or a quoted attribute: unsafe characters shown as escapes, then escaped."""
    return html.escape(_visible(_UNSAFE_KEEP_LINES, text), quote=True)


def attr(text: object) -> str:
    """A value for an ``id`` or ``href="#..."``: :func:`esc` with white space made ``_``."""
    return esc(re.sub(r"\s", "_", "" if text is None else str(text)))


def linkable(url: str | None) -> bool:
    """Whether ``url`` may become a link: a checkable http(s) address (the audit's own rule), no bidi."""
    # Imported here: the CLI imports this module for :func:`terminal` and must start fast.
    from ..audit.static import url_problem

    return bool(url) and url_problem(url or "") is None and not _UNSAFE.search(url or "")


def link(url: str | None, label: str | None = None) -> str:
    """An anchor for http(s) urls only; anything else (``javascript:``, ``file:``) stays plain text."""
    if not url:
        return ""
    shown = f'<span class="url">{esc(label or url)}</span>'
    if not linkable(url):
        return shown
    return f'<a href="{esc(url.strip())}" rel="noopener noreferrer nofollow">{shown}</a>'


def robust_link(url: str | None, label: str | None = None, *, original: str | None = None,
                version_url: str | None = None, version_date: str | None = None) -> str:
    """:func:`link` with Robust Links attributes (robustlinks.mementoweb.org): the source's url, its archived
    version and that version's date ride with the link, so a reader whose link rots can still reach the copy."""
    anchor = link(url, label)
    if not anchor.startswith("<a "):
        return anchor
    extra = f' data-originalurl="{esc((original or url or "").strip())}"'
    if version_url and linkable(version_url):
        extra += f' data-versionurl="{esc(version_url.strip())}"'
    if version_date:
        extra += f' data-versiondate="{esc(version_date)}"'
    return anchor.replace("<a ", f"<a{extra} ", 1)


#: The one stylesheet of every page. Layout rules, for a reader at 1280 px and at 390 px:
#: nothing is wider than the page (tables use a fixed layout and wrap long text only where it
#: would not fit: ``overflow-wrap: break-word``), short tokens (codes, ids, statuses, dates,
#: revisions: class ``tok``) never break, and below 46 rem tables marked ``stack`` become one
#: card per row, each cell labelled by its column.
CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,"Noto Sans","Noto Sans CJK JP",sans-serif;margin:0 auto;max-width:76rem;
padding:1rem 1.25rem 3rem;color:#1b1b1b;background:#fff;overflow-wrap:break-word}
h1{font-size:1.45rem;margin:.4rem 0 .3rem;line-height:1.25}
h2{font-size:1.2rem;margin:2rem 0 .4rem;padding-bottom:.2rem;border-bottom:1px solid #ccc;line-height:1.3}
h3{font-size:1.02rem;margin:1.2rem 0 .3rem}
a{color:#0645ad}
code,.tok,.url,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.88em}
.tok,.nw{white-space:nowrap}
.url{overflow-wrap:anywhere}
.meta{color:#555;font-size:.9rem}
.note{background:#fff8e0;border-left:4px solid #e0b000;padding:.4rem .75rem;margin:.5rem 0}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:.4rem 0 .8rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.auto{table-layout:auto;width:auto;max-width:100%}
.error{color:#a40000;font-weight:600}.warning{color:#7a4f00}.info{color:#035e8c}
.s-live{color:#176117}.s-dead,.s-invalid{color:#a40000;font-weight:600}
.s-soft-404,.s-blocked{color:#7a4f00}.s-error,.s-unchecked,.s-no-url{color:#555}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.6rem;margin:.6rem 0;
align-items:start}
.card{border:1px solid #ddd;border-radius:6px;padding:.4rem .7rem .5rem;min-width:0}
.card h2{font-size:.9rem;margin:0 0 .1rem;border:0;padding:0;color:#444;font-weight:600}
.card p{margin:.1rem 0}
.big{font-size:1.35rem;font-weight:650;line-height:1.25}
.counts{font-weight:650}
.chart{display:block;width:100%;height:1rem;margin:.25rem 0}
.legend{list-style:none;margin:.2rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.1rem .8rem;font-size:.85rem}
.legend li{white-space:nowrap}
.sw{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.25rem;vertical-align:-.05rem}
.c-live{background:#2e7d32}.c-dead{background:#c62828}.c-soft-404{background:#ef6c00}
.c-blocked{background:#8e24aa}.c-error{background:#6d4c41}.c-invalid{background:#ad1457}
.c-unchecked{background:#9e9e9e}.c-no-url{background:#cfd8dc}
.checks{font-size:.85rem;margin:.25rem 0 0;line-height:1.3}
.checks td,.checks th{padding:.05rem .4rem}
th.n,td.n{white-space:nowrap}
table.findings{margin:.2rem 0 .3rem}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:0 .6rem}
details[open]{padding-bottom:.4rem}
summary{cursor:pointer;padding:.35rem 0;font-weight:600}
summary .tok{font-weight:600}
.claim{color:#444}
mark{background:#fff3a8;color:inherit}
.q-found{color:#2e7d32}.q-changed{color:#ef6c00}.q-missing{color:#c62828}.q-unchecked{color:#616161}
td.old{background:#fff8f8}td.new{background:#f6fff6}
del{background:#ffc9c9;text-decoration:line-through}ins{background:#b6f0b6;text-decoration:none}
.alert{background:#fff3cd;border-left:4px solid #e0a800;padding:.4rem .8rem;margin:.3rem 0}
.kind{font-weight:600}
.w-id{width:7.5rem}.w-status{width:8.5rem}.w-date{width:13rem}.w-archive{width:14rem}
.w-where{width:11rem}.w-kind{width:8.5rem}.w-rev{width:15rem}.w-n{width:5rem}
@media (max-width:46rem){
body{padding:.75rem .75rem 2rem}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack colgroup,table.stack tr.head{display:none}
table.stack tr{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.2rem 0}
table.stack td{border:0;padding:.15rem .5rem}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:#555;font-weight:600}
table.stack td:empty{display:none}
table.stack td.n{display:inline-block;text-align:left;padding-right:.2rem}
table.findings td:first-child{font-weight:600;padding-top:.4rem}
}
""".strip()


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


#: The page's own stylesheet is the only thing it may use: by its hash, so no injected
#: ``<style>`` or ``style=""`` would apply; no script, image, font, frame, form or base url.
CSP = (
    f"default-src 'none'; style-src '{_hash(CSS)}'; img-src 'none'; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def page(title: str, body: Iterable[str], *, description: str = "") -> str:
    """A complete page: the meta tags, the stylesheet, ``title`` (escaped here) and ``body`` (trusted HTML)."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="wikicore">',
    ]
    if description:
        head.append(f'<meta name="description" content="{esc(description)}">')
    head.append(f"<title>{esc(title)}</title><style>{CSS}</style></head><body>")
    return "\n".join([*head, *body, "</body></html>"]) + "\n"
