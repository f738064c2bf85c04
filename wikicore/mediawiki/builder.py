"""Section bodies into paragraphs of claims, and stand-alone markup into kept records.

What the parser hands us is walked once per section body:

* the body is cut into lines (:mod:`.lines`), and each line is *prose* (it
  becomes part of a paragraph), a *list item* (a paragraph of its own, or a
  ``see_also`` title or an external link in those sections), or a *block*:
  templates, files, categories, tables, comments and magic words standing
  alone, kept verbatim in ``templates``/``media``/``categories`` so that export
  restores them instead of silently dropping them;
* a paragraph is flattened into segments (:mod:`.flatten`); each citation kind
  has its handler (:class:`_Citations`), which takes the citation out and
  leaves a gap; sentences are split on the plain text
  (:func:`wikicore.sentences.split_sentences`) and the segments are dealt out
  to them, so ``Claim.text`` is what a reader sees and ``Claim.wikitext`` the
  exact markup (without ``<ref>`` tags);
* a ``<ref>`` (or ``{{sfn}}``) becomes a citation of the sentence it follows;
  ``{{rp}}`` right after it gives the locator, ``{{dead link}}`` right after it
  marks the reference dead (:mod:`.refs` collects them);
* the citations that end a paragraph also cover the sentences before them
  that cite nothing (Wikipedia's convention, WP:CITEFOOT): they are marked
  ``covers: paragraph`` (:func:`mark_paragraph_end`), and a sentence tagged
  ``{{citation needed}}`` is marked ``citation_needed`` (the tag stays in its markup).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mwparserfromhell.nodes import Comment, Node, Tag, Template, Text, Wikilink
from mwparserfromhell.wikicode import Wikicode

from ..models import IdMinter, short_hash
from ..sentences import split_sentences
from .budget import Deadline
from .cs1 import is_cs1
from .flatten import Kind, Seg, flatten, plain_text
from .lines import is_block, is_list_marker, lines
from .markup import category_name, https, is_category_link, is_file_link, normalize_template_name, parse, plain
from .refs import Key, References, Use, rp_values
from .vocabulary import EXTERNAL_LINKS_HEADINGS, IMAGE_OPTION, SEE_ALSO_HEADING

__all__ = ["Builder", "ClaimDraft", "mark_paragraph_end"]


@dataclass
class ClaimDraft:
    """A claim before its references are resolved: citations are still :class:`~.refs.Use` records."""

    text: str
    citations: list[Use]
    wikitext: str | None = None
    citation_needed: bool = False
    covers_paragraph: bool = False

    def data(self, cite: Callable[[Use], dict[str, Any]]) -> dict[str, Any]:
        """The claim as model data, each citation resolved by ``cite``."""
        citations = [cite(use) for use in self.citations]
        if self.covers_paragraph:
            citations = [{**citation, "covers": "paragraph"} for citation in citations]
        record: dict[str, Any] = {"text": self.text, "citations": citations}
        if self.wikitext is not None:
            record["wikitext"] = self.wikitext
        if self.citation_needed:
            record["citation_needed"] = True
        return record


def _statement(claim: ClaimDraft) -> bool:
    # The same test as the uncited-claim check: stray punctuation is not a statement.
    return any(ch.isalnum() for ch in claim.text)


def mark_paragraph_end(paragraph: ParagraphDraft) -> None:
    """Mark the citations ending ``paragraph`` as covering the uncited sentences before them.

    Only when they end it (no statement after them) and cover something (a
    statement since the previous citation cites nothing and is not tagged
    ``{{citation needed}}``): a paragraph cited sentence by sentence is stored as before.
    """
    last = next((i for i in range(len(paragraph) - 1, -1, -1) if paragraph[i].citations), None)
    if last is None or any(_statement(c) for c in paragraph[last + 1:]):
        return
    before = paragraph[:last]
    previous = next((i for i in range(len(before) - 1, -1, -1) if before[i].citations), -1)
    if any(_statement(c) and not c.citation_needed for c in before[previous + 1:]):
        paragraph[last].covers_paragraph = True


#: A paragraph before its references are resolved.
ParagraphDraft = list[ClaimDraft]


class _Citations:
    """Takes the citations out of a paragraph's segments, one handler per segment kind.

    A ref (or ``{{sfn}}``) leaves a gap where it stood; ``{{rp}}`` and
    ``{{dead link}}`` apply to the citation right before them (spaces between
    allowed) and are otherwise kept as markup.
    """

    def __init__(self, refs: References) -> None:
        self.refs = refs
        self.kept: list[Seg] = []
        self.uses: list[tuple[int, Use]] = []  # (index into kept, use)
        self.last_use: Use | None = None
        self.last_key: Key | None = None
        self.handlers: dict[Kind, Callable[[Seg], None]] = {
            Kind.REF: self._ref, Kind.SFN: self._sfn, Kind.RP: self._rp, Kind.DEAD: self._dead,
            Kind.TEXT: self._text,
        }

    def take(self, segs: list[Seg]) -> tuple[list[Seg], list[tuple[int, Use]]]:
        """The segments without their citations, and each citation with the index of its gap."""
        for seg in segs:
            self.handlers.get(seg.kind, self._other)(seg)
        return self.kept, self.uses

    def _cite(self, use: Use) -> None:
        self.uses.append((len(self.kept), use))
        self.kept.append(Seg("", "", Kind.GAP))

    def _ref(self, seg: Seg) -> None:
        assert isinstance(seg.node, Tag)
        self.last_key = self.refs.ref_tag(seg.node)
        self.last_use = Use(self.last_key)
        self._cite(self.last_use)

    def _sfn(self, seg: Seg) -> None:
        assert isinstance(seg.node, Template)
        self.last_use = self.refs.sfn_use(seg.node)
        self.last_key = None
        self._cite(self.last_use)  # export may write it as a <ref>: same gap rule

    def _rp(self, seg: Seg) -> None:
        if self.last_use is None or self.last_use.rp is not None:
            self._other(seg)
            return
        assert isinstance(seg.node, Template)
        self.last_use.rp = rp_values(seg.node)

    def _dead(self, seg: Seg) -> None:
        if self.last_key is None:
            self._other(seg)
            return
        self.refs.mark_dead(self.last_key, seg.markup)

    def _text(self, seg: Seg) -> None:
        if not seg.markup.strip() and "\n" not in seg.markup:
            self.kept.append(seg)  # spaces between a ref and its {{rp}} keep the chain going
        else:
            self._other(seg)

    def _other(self, seg: Seg) -> None:
        self.last_use = None
        self.last_key = None
        self.kept.append(seg)


def _keep_sides_apart(kept: list[Seg]) -> None:
    """Put a ``<nowiki/>`` in a gap whose two sides would read differently once joined.

    A ref may keep the markup on its two sides apart (two apostrophe runs, the
    end of a bare URL, brackets); export moves refs to the claim's end, so
    without the ``<nowiki/>`` the claim would read otherwise.
    """
    for index, seg in enumerate(kept):
        if seg.kind is not Kind.GAP or index == 0 or kept[index - 1].kind is Kind.GAP:
            continue
        after = next((k for k in kept[index + 1:] if k.kind is not Kind.GAP or k.markup), None)
        if after is None or not after.markup[:1] or after.markup[:1].isspace():
            continue
        tail = ""  # the run of non-space markup right before the ref
        for earlier in reversed(kept[:index]):
            if earlier.kind is Kind.GAP:
                break  # another ref keeps what is before it apart as well
            tail = earlier.markup + tail
            if any(ch.isspace() for ch in earlier.markup) or len(tail) > 500:
                break
        tail = "" if not tail or tail[-1].isspace() else tail.split()[-1]
        if not tail:
            continue  # space before the ref: nothing can join across it
        head = ""  # the run of non-space markup right after it
        for following in kept[index + 1:]:
            if following.kind is Kind.GAP and head:
                break  # a later ref keeps what follows it apart (refs right after this one do not)
            head += following.markup
            if any(ch.isspace() for ch in following.markup) or len(head) > 500:
                break
        head = head.split()[0] if head.split() else ""
        if plain_text(tail + head) != plain_text(tail) + plain_text(head):
            kept[index] = replace(seg, markup="<nowiki/>")


def _deal(kept: list[Seg], offsets: list[int], starts: list[int]) -> tuple[dict[int, list[str]],
                                                                              dict[int, list[str]]]:
    """Deal the segments out to sentences: (markup, plain text) pieces by sentence index.

    Text is cut where a sentence starts; any other segment goes whole to the
    sentence its first character falls in.
    """
    markup: dict[int, list[str]] = {}
    text: dict[int, list[str]] = {}
    for seg, offset in zip(kept, offsets, strict=True):
        if seg.kind is Kind.TEXT and seg.plain:
            cut, end_of_seg = 0, offset + len(seg.plain)
            index = _sentence_at(starts, offset)
            while True:
                nxt = starts[index + 1] if index + 1 < len(starts) else None
                if nxt is None or nxt >= end_of_seg:
                    piece = seg.plain[cut:]
                    markup.setdefault(index, []).append(piece)
                    text.setdefault(index, []).append(piece)
                    break
                piece = seg.plain[cut:nxt - offset]
                if piece:
                    markup.setdefault(index, []).append(piece)
                    text.setdefault(index, []).append(piece)
                cut, index = nxt - offset, index + 1
        else:
            index = _sentence_at(starts, offset)
            markup.setdefault(index, []).append(seg.markup)
            text.setdefault(index, []).append(seg.plain)
    return markup, text


def _sentence_at(starts: list[int], offset: int) -> int:
    """The sentence holding plain-text ``offset``: the last one starting at or before it."""
    return bisect.bisect_right(starts, offset) - 1


def _claims(kept: list[Seg], uses: list[tuple[int, Use]], previous: list[ParagraphDraft]) -> ParagraphDraft | None:
    """Cut a paragraph's segments into claims, one a sentence, each with the citations after it."""
    offsets: list[int] = []
    position = 0
    for seg in kept:
        offsets.append(position)
        position += len(seg.plain)
    plain_all = "".join(seg.plain for seg in kept)
    if not plain_all.strip() and not any(s.markup.strip() for s in kept):
        # Nothing but refs: they support the claim before them.
        if uses and previous and previous[-1]:
            previous[-1][-1].citations.extend(u for _, u in uses)
            return None
        if not uses:
            return None
        return [ClaimDraft("", [u for _, u in uses])]
    starts = [0]
    for sentence in split_sentences(plain_all)[:-1]:
        starts.append(starts[-1] + len(sentence))
    markup, text = _deal(kept, offsets, starts)
    needed = {_sentence_at(starts, offset) for seg, offset in zip(kept, offsets, strict=True)
              if seg.kind is Kind.NEEDED}
    citations: dict[int, list[Use]] = {}
    for kept_index, use in uses:
        offset = offsets[kept_index] if kept_index < len(offsets) else position
        citations.setdefault(_sentence_at(starts, offset - 1) if offset > 0 else 0, []).append(use)
    claims: ParagraphDraft = []
    carry: list[Use] = []
    for index in sorted(set(markup) | set(citations)):
        claim_markup = "".join(markup.get(index, []))
        if not claim_markup:
            carry.extend(citations.get(index, []))
            continue
        claim_text = "".join(text.get(index, []))
        claims.append(ClaimDraft(claim_text, carry + citations.get(index, []),
                                 claim_markup if claim_markup != claim_text else None, index in needed))
        carry = []
    if carry:
        if claims:
            claims[-1].citations.extend(carry)
        else:
            claims.append(ClaimDraft("", carry))
    return claims or None


def _split_pipes(code: Wikicode) -> list[Wikicode]:
    """Split a link's text at its top-level pipes (pipes inside nested links stay put)."""
    parts: list[list[Node]] = [[]]
    for node in code.nodes:
        if isinstance(node, Text) and "|" in node.value:
            pieces = node.value.split("|")
            for index, piece in enumerate(pieces):
                if index:
                    parts.append([])
                if piece:
                    parts[-1].append(Text(piece))
        else:
            parts[-1].append(node)
    return [Wikicode(p) for p in parts]


def _source(line: list[Node | str]) -> str:
    return "".join(map(str, line)).strip()


@dataclass
class Builder:
    """Everything one page's import collects besides its section tree; ``warnings`` is the import's list."""

    warnings: list[str]
    refs: References = field(init=False)
    templates: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)
    external_links: list[dict[str, Any]] = field(default_factory=list)
    section_ids: IdMinter = field(default_factory=IdMinter)
    deadline: Deadline | None = None
    # Kept markup whose refs are registered after the prose, templates before
    # media, so that the order of uncited references does not depend on where
    # export puts kept markup within a section.
    kept_templates: list[tuple[Wikicode, Template | None]] = field(default_factory=list)
    kept_media: list[Wikicode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.refs = References(self.warnings)

    # --- sections ---------------------------------------------------------------

    def section_id(self, heading: str) -> str:
        """The id of the section under ``heading``, minted now because kept markup must name its section."""
        # The same scheme Article mints with, computed here because media and
        # templates must name their section before the article exists.
        return self.section_ids.mint(f"s-{short_hash(heading)}")

    def body(self, nodes: list[Node], section_id: str | None, heading: str) -> list[ParagraphDraft]:
        """Import one section body (or the lead): its paragraphs, in order."""
        kind = heading.strip().lower()
        special = "see_also" if kind == SEE_ALSO_HEADING else "external" if kind in EXTERNAL_LINKS_HEADINGS \
            else None
        paragraphs: list[ParagraphDraft] = []
        pending: list[Node | str] = []

        def flush() -> None:
            if pending:
                while pending and isinstance(pending[-1], str) and pending[-1] == "\n":
                    pending.pop()
                para = self.paragraph(pending, paragraphs)
                if para is not None:
                    paragraphs.append(para)
                pending.clear()

        for line in lines(nodes):
            items = [i for i in line if not (isinstance(i, str) and not i.strip())]
            if not items:
                flush()
                continue
            if is_list_marker(items[0]):
                flush()
                if special and self.special_item(special, items[1:], line, section_id):
                    continue
                content = [i for i in items[1:] if not is_list_marker(i)]
                if len(content) == 1 and isinstance(content[0], Template) \
                        and is_cs1(normalize_template_name(content[0].name)):
                    self.add_template(content[0], section_id, wikitext=_source(line), bib=content[0])
                    continue
                pending.extend(line)
                flush()
            elif all(is_block(i) for i in items):
                flush()
                for item in items:
                    self.block(item, section_id)
            else:
                pending.extend(line)
        flush()
        return paragraphs

    def special_item(self, special: str, items: list[Node | str], line: list[Node | str],
                     section_id: str | None) -> bool:
        """A bullet of "See also" or "External links"; False when it is ordinary prose."""
        content = [i for i in items if not (isinstance(i, str) and not i.strip())]
        if special == "see_also":
            if len(content) == 1 and isinstance(content[0], Wikilink) and not is_file_link(content[0]):
                self.see_also.append(str(content[0].title).strip())
                return True
            return False
        if len(content) == 1 and isinstance(content[0], Template):
            template = content[0]
            url = next((str(template.get(p).value).strip() for p in ("url", "1")
                        if template.has(p) and str(template.get(p).value).strip().startswith(("http", "//"))),
                       None)
            if url is None:
                self.add_template(template, section_id, wikitext=_source(line))
                return True
            self.external_links.append({"title": str(template.name).strip(), "url": https(url)})
            return True
        code = parse("".join(map(str, items)))
        link = next(iter(code.filter_external_links()), None)
        title = plain(code)
        if not title and link is None:
            return False
        entry: dict[str, Any] = {"title": title or str(link.url if link else "")}
        if link is not None:
            entry["url"] = str(link.url).strip()
        self.external_links.append(entry)
        return True

    def add_template(self, node: Node | str, section_id: str | None, name: str | None = None,
                     wikitext: str | None = None, bib: Template | None = None) -> None:
        """Keep ``node`` verbatim in ``templates`` (``wikitext`` when the whole line is kept)."""
        text = wikitext if wikitext is not None else str(node).strip()
        if name is None:
            name = str(node.name).strip() if isinstance(node, Template) else type(node).__name__
        record: dict[str, Any] = {"name": name or "?", "wikitext": text}
        if section_id:
            record["section"] = section_id
        self.templates.append(record)
        if not isinstance(node, str):
            self.kept_templates.append((parse(text) if wikitext is not None else Wikicode([node]), bib))

    def scan_kept(self) -> None:
        """Register the references of kept markup, in list order (see ``kept_templates``)."""
        for code, bib in self.kept_templates:
            if bib is not None:
                self.refs.bibliography(bib)
            self.refs.scan(code)
        for code in self.kept_media:
            self.refs.scan(code)

    def block(self, item: Node | str, section_id: str | None) -> None:
        """Keep a stand-alone element where export can find it again."""
        if isinstance(item, str):
            self.add_template(item, section_id, name=item.strip(), wikitext=item.strip())
        elif isinstance(item, Template):
            bib = item if is_cs1(normalize_template_name(item.name)) else None
            self.add_template(item, section_id, bib=bib)
        elif isinstance(item, Comment):
            self.add_template(item, section_id, name="#comment")
        elif isinstance(item, Wikilink):
            if is_category_link(item):
                self.categories.append(category_name(item))
            elif is_file_link(item):
                self.add_media(item, section_id)
            else:
                self.add_template(item, section_id, name="#interlanguage")
        elif isinstance(item, Tag):
            tag = str(item.tag).strip().lower()
            if tag == "gallery":
                record: dict[str, Any] = {"kind": "other", "raw": str(item)}
                if section_id:
                    record["section"] = section_id
                self.media.append(record)
                self.kept_media.append(Wikicode([item]))
            else:
                self.add_template(item, section_id, name="#table" if tag == "table" else tag)
        else:
            self.add_template(item, section_id, name=type(item).__name__)

    def add_media(self, link: Wikilink, section_id: str | None) -> None:
        """Keep a file link as an image of ``media``, its caption read from the last non-option part."""
        parts = _split_pipes(link.text) if link.text is not None else []
        captions = [p for p in parts if not IMAGE_OPTION.match(str(p))]
        record: dict[str, Any] = {
            "kind": "image",
            "file": str(link.title).strip().split(":", 1)[1].strip(),
            "caption": plain(captions[-1]) if captions else "",
            "raw": str(link),
        }
        if section_id:
            record["section"] = section_id
        self.media.append(record)
        self.kept_media.append(Wikicode([link]))

    # --- paragraphs ---------------------------------------------------------------

    def paragraph(self, nodes: list[Node | str], previous: list[ParagraphDraft]) -> ParagraphDraft | None:
        """One paragraph's claims; ``None`` when it holds none (refs alone go to the claim before them)."""
        if self.deadline is not None:
            self.deadline.check()
        segs: list[Seg] = []
        flatten(nodes, segs, self.categories)
        kept, uses = _Citations(self.refs).take(segs)
        _keep_sides_apart(kept)
        return _claims(kept, uses, previous)
