"""Render an article for reading in a terminal (``show --format text``).

Headings are numbered like a table of contents, paragraphs are the claims
joined back together, and each citation shows as ``[n]`` pointing into the
numbered reference list, so a reader sees at a glance which statements rest on
which sources — and which rest on nothing.
"""

from __future__ import annotations

import unicodedata

from ..models import Article, Paragraph, Reference, Section
from . import register

__all__ = ["display_width", "render_text"]


def _reference_line(ref: Reference) -> str:
    parts: list[str] = []
    if ref.authors:
        parts.append("; ".join(ref.authors))
    if ref.date:
        parts.append(f"({ref.date})")
    if ref.title:
        parts.append(f"“{ref.title}”")
    for value in (ref.work, ref.publisher):
        if value:
            parts.append(value)
    if ref.pages:
        parts.append(f"p. {ref.pages}")
    if ref.isbn:
        parts.append(f"ISBN {ref.isbn}")
    if ref.doi:
        parts.append(f"doi:{ref.doi}")
    if ref.url:
        parts.append(ref.url)
    if ref.access_date:
        parts.append(f"accessed {ref.access_date}")
    if ref.archive_url or ref.archive_date:
        parts.append(f"archived {ref.archive_date or ''} {ref.archive_url or '(no archive link)'}".replace("  ", " "))
    return " ".join(parts) if parts else (ref.raw or ref.id).replace("\n", " ")


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide and fullwidth characters (CJK) two, combining marks none.

    The rule of Unicode's East Asian Width property (UAX #11), which terminals follow; an underline
    of ``len(text)`` is short under CJK and one of twice that is double under Latin text.
    """
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


@register("text")
def render_text(article: Article, width: int = 88) -> str:
    """A readable plain-text rendering; ``width`` bounds the heading underlines."""
    numbers = {ref.id: index for index, ref in enumerate(article.references, start=1)}
    out: list[str] = [article.title, "=" * min(display_width(article.title), width)]
    if article.aliases:
        out.append("also: " + ", ".join(article.aliases))
    out.append("")

    def paragraph(p: Paragraph) -> None:
        text = "".join(
            claim.text.rstrip() + "".join(f"[{numbers.get(c.ref, '?')}]" for c in claim.citations)
            + claim.text[len(claim.text.rstrip()):]
            for claim in p.claims
        )
        # One line per paragraph: terminals wrap by display width, which for CJK text
        # is not the character count that textwrap would use.
        out.append(text.rstrip())
        out.append("")

    for p in article.lead:
        paragraph(p)

    def section(s: Section, number: str) -> None:
        out.append(f"{number} {s.heading}")
        out.append("-" * min(display_width(f"{number} {s.heading}"), width))
        for m in article.media:
            if m.section == s.id:
                out.append(f"[{m.kind}: {' '.join(m.caption.split())}]")
        for p in s.paragraphs:
            paragraph(p)
        for index, child in enumerate(s.sections, start=1):
            section(child, f"{number}.{index}")

    for index, s in enumerate(article.sections, start=1):
        section(s, str(index))
    if article.see_also:
        out += ["See also", "--------", *[f"  - {t}" for t in article.see_also], ""]
    if article.references:
        out += ["References", "----------"]
        for ref in article.references:
            out.append(f"  {numbers[ref.id]:>3}. {_reference_line(ref)}")
        out.append("")
    if article.external_links:
        out += ["External links", "--------------"]
        out += [f"  - {link.title}" + (f" <{link.url}>" if link.url else "") for link in article.external_links]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
