"""MediaWiki wikitext out: every claim followed by the ``<ref>`` tags of its citations.

The contract is that importing the export gives back an equal article on
claims, citations and references (an article edited as data and published as
wikitext must not lose a citation on the way); the tests prove it on every fixture and on
real articles. Three choices make that hold:

* A reference whose fields still say what its ``raw`` says (it was imported and
  not edited since) is written back as ``raw``, byte for byte: nothing a CS1
  template held is lost, known parameter or not. A reference that was edited
  (an audit filled ``archive_url``) or written by hand gets a CS1 template
  built from its fields, with modern parameter names.
* A reference cited more than once, or that has a name, is a named ref: the
  definition at its first citation, ``<ref name="x" />`` afterwards. A
  reference without a name that is cited twice or rebuilt from its fields is
  named by its id, so that import gives it back the same id (ids carry history). A
  reference defined inside kept markup (an infobox, ``{{reflist|refs=}}``) is
  only ever reused, and a reference listed in a bibliography is cited with
  ``{{sfn}}``, as the source did.
* A citation whose locator or quote differs from what its reference's template
  implies gets ``{{rp|...}}`` after the tag.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from ..exporters import register
from ..models import Article, Citation, Claim, Media, Paragraph, Reference, ReferenceType, Section
from .cs1 import RefContent, parse_ref_content, sfn_key
from .flatten import plain_text
from .lines import is_block_line
from .markup import parse
from .vocabulary import CS1_TEMPLATE_FOR, EXTERNAL_LINKS_HEADINGS, SEE_ALSO_HEADING

__all__ = ["cs1_template", "export_wikitext"]

# Markup that would change meaning if a hand-written claim held it literally.
_SPECIAL = re.compile(r"\[\[|\]\]|\{\{|\}\}|''|<|\[https?:|\[//|~~~|__|&[A-Za-z#0-9]+;|^[*#:;=]|^ |^----", re.M)
_LIST_START = re.compile(r"^[*#:;]")
_ESCAPES = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>[]{}'|~_"})
_LINE_START = frozenset("*#:;= -{")


def _value(text: str) -> str:
    """A template parameter value: pipes and braces would end it, so they become entities."""
    return text.replace("&", "&amp;").replace("|", "&#124;").replace("{", "&#123;").replace("}", "&#125;") \
        .replace("<", "&lt;").replace("[", "&#91;").replace("]", "&#93;").replace("'", "&#39;") \
        .replace("=", "&#61;").replace("\n", " ")


def cs1_template(ref: Reference, page: str | None = None, quote: str | None = None) -> str:
    """A CS1 template for ``ref`` with modern parameter names (``access-date``, ``archive-url``, ...)."""
    name, work_param = CS1_TEMPLATE_FOR[ref.type]
    params: list[tuple[str, str]] = []
    for index, author in enumerate(ref.authors, start=1):
        last, comma, first = author.partition(", ")
        if comma and "," not in first and last and first:
            params += [(f"last{index}", last), (f"first{index}", first)]
        else:
            params.append((f"author{index}", author))
    simple: list[tuple[str, str | None]] = [
        ("title", ref.title), ("url", ref.url), ("date", ref.date), (work_param, ref.work),
        ("publisher", ref.publisher), ("via", ref.via), ("volume", ref.volume), ("issue", ref.issue),
        ("language", ref.language), ("isbn", ref.isbn), ("doi", ref.doi), ("issn", ref.issn),
        ("access-date", ref.access_date), ("archive-url", ref.archive_url), ("archive-date", ref.archive_date),
        ("url-status", ref.url_status.value if ref.url_status else None),
    ]
    params += [(k, v) for k, v in simple if v]
    if page:
        params.append(("pages" if re.search(r"[-–,]| ", page) else "page", page))
    if quote:
        params.append(("quote", quote))
    body = "".join(f" |{key}={_value(value) if key not in {'url', 'archive-url'} else value}"
                   for key, value in params)
    return "{{" + name + body + "}}"


def _fields(ref: Reference) -> dict[str, object]:
    return ref.model_dump(mode="json", exclude={"id", "name", "raw"}, exclude_defaults=True)


class _Refs:
    """Decides, once per article, how each reference and each citation is written."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.by_id = {r.id: r for r in article.references}
        citations = [c for claim in article.claims() for c in claim.citations]
        self.count = Counter(c.ref for c in citations)
        kept = "\n".join(t.wikitext for t in article.templates) + "\n" + "\n".join(
            m.raw for m in article.media if m.raw)
        self.kept_text = kept
        # Named refs that kept markup defines, with their content: such a ref is only reused in
        # prose, unless the source gave it other content there (import keeps the prose definition).
        self.kept_defs: dict[str, str] = {}
        for tag in parse(kept).filter_tags(recursive=True):
            if str(tag.tag).strip().lower() == "ref" and not tag.self_closing and tag.contents is not None \
                    and str(tag.contents).strip() and tag.has("name"):
                self.kept_defs.setdefault(str(tag.get("name").value).strip(), str(tag.contents))
        self.emitted: set[str] = set()
        self.content: dict[str, tuple[str, RefContent | None]] = {}
        for ref in article.references:
            self.content[ref.id] = self._content(ref, [c for c in citations if c.ref == ref.id])

    def _content(self, ref: Reference, citations: list[Citation]) -> tuple[str, RefContent | None]:
        """The ref's inner wikitext, and what it implies for its citations' locator and quote."""
        if ref.raw is not None:
            parsed = parse_ref_content(ref.raw)
            try:
                same = _fields(Reference.model_validate({"id": ref.id, **parsed.fields})) == _fields(ref)
            except ValueError:
                same = False
            if same or ref.type is ReferenceType.OTHER:
                return ref.raw, parsed
        locators = {c.locator for c in citations}
        quotes = {c.quote for c in citations}
        page = locators.pop() if len(locators) == 1 else None
        quote = quotes.pop() if len(quotes) == 1 else None
        text = cs1_template(ref, page, quote)
        return text, RefContent(fields={}, locator=page, quote=quote)

    def name_of(self, ref: Reference) -> str | None:
        if ref.name:
            return ref.name
        # Cited twice, or rewritten from its fields (so its raw, and the id hashed from it, would
        # change): the id becomes the name, which import turns back into the same id.
        rewritten = self.content[ref.id][0] != ref.raw
        return ref.id if self.count[ref.id] > 1 or rewritten else None

    def in_kept_markup(self, ref: Reference) -> bool:
        if ref.name:
            return ref.name in self.kept_defs and self.kept_defs[ref.name] == ref.raw
        return ref.raw is not None and ref.raw.strip() != "" and ref.raw in self.kept_text

    def cite(self, citation: Citation) -> str:
        """The markup for one citation: a ref tag (or ``{{sfn}}``) plus ``{{rp}}`` when needed."""
        ref = self.by_id[citation.ref]
        content, implied = self.content[ref.id]
        if ref.raw is not None and ref.raw.lstrip().lower().startswith("{{sfn") and ref.name is None:
            return ref.raw  # an {{sfn}} whose full reference was never found: as written
        name = self.name_of(ref)
        if self.in_kept_markup(ref) and not ref.name:
            key = sfn_key(ref.authors, ref.date)
            if key is not None:
                surnames = [a.split(",")[0].strip() for a in ref.authors[:4]]
                loc = citation.locator
                page = f"|{'pp' if loc and re.search(r'[-–,]', loc) else 'p'}={loc}" if loc else ""
                return "{{sfn|" + "|".join(surnames) + f"|{ref.date[:4] if ref.date else ''}{page}}}}}"
        undefined = ref.raw is None and not _fields(ref)  # a ref name the source used but never defined
        if undefined:
            name = name or ref.id
        if name is not None and (ref.id in self.emitted or self.in_kept_markup(ref) or undefined):
            tag = f'<ref name="{_attr(name)}" />'
        elif name is not None:
            tag = f'<ref name="{_attr(name)}">{content}</ref>'
        else:
            tag = f"<ref>{content}</ref>"
        self.emitted.add(ref.id)
        implied_locator = implied.locator if implied else None
        implied_quote = implied.quote if implied else None
        if citation.locator != implied_locator or (citation.quote and citation.quote != implied_quote):
            args = []
            if citation.locator is not None or citation.quote:
                loc = citation.locator or ""
                args.append(f"page={_value(loc)}" if "=" in loc or "|" in loc else _value(loc))
            if citation.quote and citation.quote != implied_quote:
                args.append(f"quote={_value(citation.quote)}")
            tag += "{{rp|" + "|".join(args) + "}}"
        return tag

    def unplaced(self) -> Iterator[tuple[str, str]]:
        """References nothing cites and no kept markup defines: (name, content) for ``{{reflist|refs=}}``."""
        for ref in self.article.references:
            if ref.raw is None and not _fields(ref):
                continue  # used but never defined in the source: nothing to define
            if ref.id not in self.emitted and self.count[ref.id] == 0 and not self.in_kept_markup(ref):
                if ref.raw is not None and ref.raw.lstrip().lower().startswith("{{sfn"):
                    continue
                yield ref.name or ref.id, self.content[ref.id][0]


def _attr(name: str) -> str:
    return name.replace('"', "&quot;")


def _claim_markup(claim: Claim, escape: bool) -> str:
    if claim.wikitext is not None:
        return claim.wikitext
    text = claim.text
    if escape and _SPECIAL.search(text) and plain_text(text) != text:
        # Character references, not <nowiki>: they read as the characters anywhere, even in
        # text that itself holds "</nowiki>", and import decodes them back to the same text.
        escaped = text.translate(_ESCAPES)
        return re.sub(r"(^|\n)([*#:; =-])", lambda m: f"{m[1]}&#{ord(m[2])};", escaped)
    return text


def _ref_slots(markup: str) -> list[int]:
    """Where refs must go so that no line of ``markup`` becomes a block or a paragraph break, in order.

    Each such line held at least one ref in the source (import keeps a line of lone templates
    apart, and ends the paragraph at an empty line), so each needs one back: refs gathered at the
    first of them would leave the others to be read as blocks, and the claim's text would change.
    """
    if "\n" not in markup and not markup.lstrip().startswith(("{{", "[[", "<!--", "__", "<")):
        return []
    slots: list[int] = []
    position = 0
    lines = markup.split("\n")
    spans = any(mark in markup for mark in ("<", "{{", "[[", "{|"))  # may hold the empty line inside
    for number, line in enumerate(lines):
        if 0 < number < len(lines) - 1 and not line.strip() and not spans:
            slots.append(position)  # an empty line inside a claim held only refs: without them it ends the paragraph
        elif any(mark in line for mark in ("{{", "[[", "<!--", "__", "<")) and is_block_line(line):
            slots.append(position + len(line.rstrip()))  # a ref kept this line from being a lone template
        position += len(line) + 1
    return slots


def _place(markup: str, slots: list[int], tags: list[str]) -> str:
    """``markup`` with ``tags`` at ``slots``: one for each slot after the first, the rest at the first."""
    extra = max(len(tags) - len(slots), 0)
    groups = ["".join(tags[:extra + 1]), *tags[extra + 1:]]
    out: list[str] = []
    last = 0
    for slot, group in zip(slots, groups, strict=False):
        out += [markup[last:slot], group]
        last = slot
    return "".join(out) + markup[last:]


def _paragraph(paragraph: Paragraph, refs: _Refs) -> str:
    out: list[str] = []
    # A claim without wikitext is text that reads as itself in its paragraph (import made it so);
    # only text written by hand may hold markup by accident, and only then is it escaped.
    joined = "".join(c.wikitext if c.wikitext is not None else c.text for c in paragraph.claims)
    escape = bool(_SPECIAL.search(joined)) and plain_text(joined) != paragraph.text
    for claim in paragraph.claims:
        markup = _claim_markup(claim, escape)
        core = markup.rstrip()
        cited = [refs.cite(c) for c in claim.citations]
        tags = "".join(cited)
        slots = _ref_slots(markup) if tags else []
        if tags and not out and (markup.startswith("\n") or (
                markup[:1] in _LINE_START and claim.text[:1] == markup[:1]
                and (markup[:1] == "=" or plain_text(markup) != claim.text))):
            # The paragraph began with refs that kept a literal "*", "=", ... from starting the line
            # (where it would be a list or a heading): they go in front, still citing this claim.
            slots = [0, *(slot for slot in slots if slot)]
        if slots and "\n" in markup[len(core):] and slots[-1] < len(markup):
            # A line break at the end held a ref after it too (else it would end the paragraph).
            slots.append(len(markup))
        if slots:
            # Refs stood where the markup alone would read otherwise (lone templates on a line, a
            # list marker, a paragraph break): one goes back on each such place, the rest at the first.
            out.append(_place(markup, slots, cited))
        elif "\n" in markup[len(core):]:
            # A line break before the refs: keep it before them, or import would drop it as a paragraph end.
            out.append(markup + tags)
        else:
            out.append(core + tags + markup[len(core):])
    return "".join(out).rstrip("\n")


def _paragraphs(paragraphs: list[Paragraph], refs: _Refs) -> str:
    text = ""
    previous_list = False
    for paragraph in paragraphs:
        rendered = _paragraph(paragraph, refs)
        is_list = bool(_LIST_START.match(rendered))
        if text:
            text += "\n" if is_list and previous_list else "\n\n"
        text += rendered
        previous_list = is_list
    return text


def _media(media: Media) -> str:
    if media.raw:
        return media.raw
    caption = f"|{media.caption}" if media.caption else ""
    return f"[[File:{media.file or ''}|thumb{caption}]]"


@register("wikitext")
def export_wikitext(article: Article) -> str:
    """Render ``article`` as MediaWiki wikitext (see the module docstring for the round-trip rules)."""
    refs = _Refs(article)
    see_also_done = external_done = False

    def block(section_id: str | None) -> list[str]:
        parts = [t.wikitext for t in article.templates if t.section == section_id]
        parts += [_media(m) for m in article.media if m.section == section_id]
        return parts

    def render(section: Section, level: int) -> str:
        nonlocal see_also_done, external_done
        marks = "=" * min(level, 6)
        parts = [f"{marks} {section.heading} {marks}"]
        kept = block(section.id)
        if kept:
            parts.append("\n".join(kept))
        if section.paragraphs:
            parts.append(_paragraphs(section.paragraphs, refs))
        heading = section.heading.strip().lower()
        if heading == SEE_ALSO_HEADING and not see_also_done:
            see_also_done = True
            if article.see_also:
                parts.append("\n".join(f"* [[{title}]]" for title in article.see_also))
        if heading in EXTERNAL_LINKS_HEADINGS and not external_done:
            external_done = True
            if article.external_links:
                parts.append(_external_links(article))
        text = "\n".join(parts)
        for child in section.sections:
            text += "\n\n" + render(child, level + 1)
        return text

    chunks: list[str] = []
    lead_kept = block(None)
    if lead_kept:
        chunks.append("\n".join(lead_kept))
    if article.lead:
        chunks.append(_paragraphs(article.lead, refs))
    chunks += [render(section, 2) for section in article.sections]
    known = {s.id for _, s in article.iter_sections()}
    orphans = [t.wikitext for t in article.templates if t.section is not None and t.section not in known]
    orphans += [_media(m) for m in article.media if m.section is not None and m.section not in known]
    if article.see_also and not see_also_done:
        chunks.append("== See also ==\n" + "\n".join(f"* [[{title}]]" for title in article.see_also))
    if article.external_links and not external_done:
        chunks.append("== External links ==\n" + _external_links(article))
    unplaced = list(refs.unplaced())
    if unplaced:
        defs = "\n".join(f'<ref name="{_attr(name)}">{content}</ref>' for name, content in unplaced)
        chunks.append("{{reflist|refs=\n" + defs + "\n}}")
    if orphans:
        chunks.append("\n".join(orphans))
    if article.categories:
        chunks.append("\n".join(f"[[Category:{c}]]" for c in article.categories))
    return "\n\n".join(chunk for chunk in chunks if chunk) + "\n"


def _external_links(article: Article) -> str:
    lines = []
    for link in article.external_links:
        lines.append(f"* [{link.url} {link.title}]" if link.url else f"* {link.title}")
    return "\n".join(lines)
