"""MediaWiki wikitext in: one page becomes an :class:`~wikicore.models.Article`.

Parsing is done by mwparserfromhell, never by regular expressions over markup,
so a ``<ref>`` inside an infobox parameter, a link inside a caption or a
template spanning blank lines are all seen for what they are. This module is
the entry point and its order of work: refuse what is over a budget
(:mod:`.budget`), repair the odd real-world shapes, parse, open a nested
:class:`~wikicore.models.Section` at each heading (what comes before the first
heading is the lead), hand each body to the :class:`~.builder.Builder`, and
resolve the references (:mod:`.refs`) once the whole page is read.

References keep ``raw``: the ref's inner wikitext exactly, plus a
``{{dead link}}`` that followed the tag (the model has no field for its date,
so the date lives in ``raw``; the exporter writes it back inside the ref,
where MediaWiki renders it the same). The CS1 fields are read from ``raw`` by
:func:`~.cs1.parse_ref_content`, which the exporter calls too: a reference
whose fields still match its ``raw`` is written back byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from mwparserfromhell.nodes import Heading, Node

from ..errors import ImportFailed
from ..gcpause import paused_gc
from ..importers import register
from ..models import Article
from ..serialize import article_from_data
from .budget import PAGE_SECONDS, Deadline, check_size, check_unclosed
from .builder import Builder, ParagraphDraft, mark_paragraph_end
from .markup import parse, plain
from .refs import Use
from .vocabulary import REDIRECT

__all__ = ["import_wikitext", "parse_redirect"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
_ESCAPED_MARKUP = re.compile(r"&(lt|gt|quot|amp);")
_COLLAPSED_HEADING = re.compile(r"(?<=\S)[ \t]+(={2,6})([^=\n]{1,200}?)\1(?=[ \t]+\S)")


def parse_redirect(text: str) -> str | None:
    """The target title of a ``#REDIRECT [[X]]`` page, or ``None`` if ``text`` is not a redirect.

    The magic word is matched at the very start of the page, as MediaWiki does;
    a section anchor (``[[X#History]]``) is dropped: an alias names an article.
    """
    match = REDIRECT.match(text)
    if not match:
        return None
    target = " ".join(match.group(1).replace("_", " ").split())
    return target or None


def _repair(text: str, warnings: list[str]) -> str:
    """Undo the odd real-world shapes: CRLF, control characters, escaped refs, collapsed newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        warnings.append("control characters were removed")
        text = _CONTROL.sub("", text)
    if "&lt;ref" in text.lower() and "<ref" not in text.lower():
        # The page was XML-escaped twice (a scraped dump): undo one level, in one pass.
        warnings.append("refs were HTML-escaped (&lt;ref&gt;); one level of escaping was undone")
        text = _ESCAPED_MARKUP.sub(lambda m: {"lt": "<", "gt": ">", "quot": '"', "amp": "&"}[m[1]], text)
    if not re.search(r"^={2,6}[^=\n]+={2,6}\s*$", text, re.MULTILINE) and _COLLAPSED_HEADING.search(text):
        count = len(_COLLAPSED_HEADING.findall(text))
        warnings.append(f"newlines looked collapsed; restored line breaks around {count} headings")
        text = _COLLAPSED_HEADING.sub(lambda m: f"\n\n{m[1]}{m[2]}{m[1]}\n", text)
        text = re.sub(r"[ \t]+(\[\[(?:Category|File|Image):)", r"\n\1", text)
    return text


def _title_from(file_name: str | None) -> str | None:
    if not file_name:
        return None
    stem = PurePath(file_name).name
    for suffix in (".wikitext", ".mediawiki", ".wiki", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    stem = " ".join(stem.replace("_", " ").split())
    return stem[:1].upper() + stem[1:] if stem else None


def import_wikitext(text: str, *, slug: str | None = None, file_name: str | None = None,
                    title: str | None = None, time_budget: float = PAGE_SECONDS) -> Article:
    """Import one MediaWiki page; see the module docstring for what goes where.

    ``title`` (the page name, as a dump gives it) wins over a title made from
    ``file_name``. A redirect page raises :class:`~wikicore.errors.ImportFailed`
    naming its target: it is an alias, not an article. A page over a budget
    (:data:`~.budget.MAX_CHARS`, :data:`~.budget.MAX_UNCLOSED_WORK`, ``time_budget``
    seconds) raises :class:`~wikicore.errors.BudgetExceeded` naming it, so a dump
    import or a scan reports the page and goes on.
    """
    with paused_gc():
        return _import_wikitext(text, slug=slug, file_name=file_name, title=title, time_budget=time_budget)


def _walk(sections: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for section in sections:
        yield section
        yield from _walk(section["sections"])


class _Outline:
    """The section tree of one page, its bodies handed to the builder as each heading closes one."""

    def __init__(self, builder: Builder, deadline: Deadline) -> None:
        self.builder = builder
        self.deadline = deadline
        self.lead: list[ParagraphDraft] = []
        self.root: list[dict[str, Any]] = []
        self.stack: list[tuple[int, dict[str, Any]]] = []
        self.body: list[Node] = []
        self.current: tuple[dict[str, Any] | None, str | None, str] = (None, None, "")

    def read(self, nodes: list[Node]) -> None:
        for node in nodes:
            if isinstance(node, Heading):
                self._close_body()
                self._open(node)
            else:
                self.body.append(node)
        self._close_body()

    def _open(self, node: Heading) -> None:
        heading = str(node.title).strip()
        section_id = self.builder.section_id(heading)
        section: dict[str, Any] = {"id": section_id, "heading": heading, "sections": []}
        while self.stack and self.stack[-1][0] >= node.level:
            self.stack.pop()
        (self.stack[-1][1]["sections"] if self.stack else self.root).append(section)
        self.stack.append((node.level, section))
        self.current = (section, section_id, plain(node.title))

    def _close_body(self) -> None:
        self.deadline.check()
        section, section_id, heading = self.current
        paragraphs = self.builder.body(self.body, section_id, heading)
        if section is None:
            self.lead.extend(paragraphs)
        else:
            section["paragraphs"] = paragraphs
        self.body.clear()

    def resolve(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Resolve every citation (refs may be defined after use) and turn the drafts into model data.

        Returns the lead's paragraphs and the reference records; the sections' paragraphs become
        data in place.
        """
        drafts: list[ParagraphDraft] = self.lead + [p for s in _walk(self.root) for p in s["paragraphs"]]
        uses = [use for para in drafts for claim in para for use in claim.citations]
        self.builder.scan_kept()
        references, contents = self.builder.refs.resolve(uses)

        def cite(use: Use) -> dict[str, Any]:
            return self.builder.refs.citation(use, contents)

        for para in drafts:  # after refs standing alone joined the paragraph before them
            mark_paragraph_end(para)

        def data(paragraphs: list[ParagraphDraft]) -> list[dict[str, Any]]:
            return [{"claims": [claim.data(cite) for claim in para]} for para in paragraphs]

        for section in _walk(self.root):
            section["paragraphs"] = data(section["paragraphs"])
        return data(self.lead), references


def _import_wikitext(text: str, *, slug: str | None, file_name: str | None, title: str | None,
                     time_budget: float) -> Article:
    from ..models import slugify

    name = title or _title_from(file_name)
    where = file_name or name or "input"
    check_size(text, where)
    target = parse_redirect(text)
    if target is not None:
        raise ImportFailed(f"{where} is a redirect to {target}")
    if not name:
        raise ImportFailed(f"{where}: no title (give a file name or a title)")
    deadline = Deadline(where, time_budget)
    warnings: list[str] = []
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    repaired = _repair(text, warnings)
    check_unclosed(repaired, where)
    code = parse(repaired)
    deadline.check()
    builder = Builder(warnings, deadline=deadline)
    outline = _Outline(builder, deadline)
    outline.read(code.nodes)
    lead, references = outline.resolve()
    try:
        article_slug = slug or slugify(name)
    except ValueError as error:
        raise ImportFailed(f"{where}: {error}") from None
    data: dict[str, Any] = {
        "slug": article_slug,
        "title": name,
        "lead": lead,
        "sections": outline.root,
        "references": references,
        "see_also": builder.see_also,
        "external_links": builder.external_links,
        "media": builder.media,
        "categories": builder.categories,
        "templates": builder.templates,
        "source": {"format": "wikitext", "file": PurePath(file_name).name if file_name else None,
                   "page_name": title, "sha256": sha, "warnings": list(dict.fromkeys(warnings))},
    }
    # The same validation path as a stored file: problems come back located, one line each.
    return article_from_data(data, source=file_name or where)


# Registered by a call, not as a decorator: the decorator's type would hide the extra ``title`` keyword.
register("wikitext")(import_wikitext)
