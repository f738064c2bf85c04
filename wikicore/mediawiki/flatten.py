"""Parsed wikitext flattened into segments of (markup, plain text), the unit claims are cut from.

Sentences are split on what a reader sees, yet a claim must keep its exact
markup: so a paragraph's nodes become a flat run of :class:`Seg` records, each
holding its markup and its plain text side by side, and a :class:`Kind` that
says how the builder treats it (text may be cut between sentences, an atom
never is, a ref is a citation). Bold and italic are opened, so a sentence may
end inside them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mwparserfromhell.nodes import ExternalLink, HTMLEntity, Node, Tag, Template, Text, Wikilink

from .markup import (
    apostrophe_segments,
    category_name,
    is_category_link,
    is_file_link,
    normalize_template_name,
    parse,
    plain,
)
from .vocabulary import CITATION_NEEDED, DEAD_LINK, LIST_MARKUP, RP, SFN, TEXT_PARAM, VERBATIM_TAGS

__all__ = ["Kind", "Seg", "flatten", "plain_text"]


class Kind(enum.Enum):
    """How the builder treats a segment."""

    TEXT = "text"
    """Prose: its plain text may be cut between two sentences, character by character."""
    ATOM = "atom"
    """Markup that stays whole within one sentence: a link, a template, an entity, a bold mark."""
    MARKER = "marker"
    """A list marker (``*``, ``#``, ``:``, ``;``) starting a list item."""
    REF = "ref"
    """A ``<ref>`` tag: a citation of the sentence before it."""
    SFN = "sfn"
    """A ``{{sfn}}`` short citation: a citation found by author and year."""
    RP = "rp"
    """A ``{{rp}}``: the page (and quote) of the citation right before it."""
    DEAD = "dead"
    """A ``{{dead link}}``: marks the reference cited right before it dead."""
    NEEDED = "needed"
    """A ``{{citation needed}}``: markup that reads as nothing and tags the sentence it ends."""
    GAP = "gap"
    """Where a citation was taken out of the prose (markup empty, or a ``<nowiki/>`` keeping two sides apart)."""


@dataclass(frozen=True, slots=True)
class Seg:
    """One piece of a paragraph: its exact markup and what a reader sees of it.

    ``node`` is the parsed ref tag or template of the citation kinds
    (:attr:`Kind.REF`, :attr:`Kind.SFN`, :attr:`Kind.RP`, :attr:`Kind.DEAD`), else ``None``.
    """

    markup: str
    plain: str
    kind: Kind = Kind.ATOM
    node: Tag | Template | None = None


#: What the templates that annotate a citation mean, by normalised name.
_TEMPLATE_KINDS: dict[str, Kind] = {**{name: Kind.RP for name in RP}, **{name: Kind.DEAD for name in DEAD_LINK},
                                    **{name: Kind.SFN for name in SFN},
                                    **{name: Kind.NEEDED for name in CITATION_NEEDED}}


def _template_plain(template: Template) -> str:
    name = normalize_template_name(template.name)
    param = TEXT_PARAM.get(name)
    if param and template.has(param):
        return plain(template.get(param).value)
    if name == "convert" and template.has("1") and template.has("2"):
        return f"{plain(template.get('1').value)} {plain(template.get('2').value)}"
    return ""


class _Flattener:
    """Appends the segments of parsed nodes to ``out``; category links go to ``categories`` instead."""

    def __init__(self, out: list[Seg], categories: list[str]) -> None:
        self.out = out
        self.categories = categories
        self.buffer: list[str] = []
        # One handler per node type; anything else (a comment, an argument, a heading inside a tag,
        # a node type mwparserfromhell adds later) is kept as markup that reads as nothing.
        self.handlers: dict[type[Node], Callable[[Node], None]] = {
            Tag: self._tag, Template: self._template, Wikilink: self._wikilink,
            ExternalLink: self._external_link, HTMLEntity: self._entity,
        }

    def run(self, nodes: Iterable[Node | str]) -> None:
        for node in nodes:
            if isinstance(node, str | Text):
                self.buffer.append(node if isinstance(node, str) else node.value)
                continue
            self._flush_text()
            self.handlers.get(type(node), self._silent)(node)
        self._flush_text()

    def _flush_text(self) -> None:
        # Adjacent text nodes are joined first, so an apostrophe run split across them is one run.
        if not self.buffer:
            return
        text = "".join(self.buffer)
        self.buffer.clear()
        if self.out and self.out[-1].kind is Kind.MARKER and text[:1].isspace():
            # "* item": the space after a list marker is layout, not part of the claim's text.
            space = text[: len(text) - len(text.lstrip())]
            self.out.append(Seg(space, ""))
            text = text[len(space):]
        for markup, plain_piece in apostrophe_segments(text):
            self.out.append(Seg(markup, plain_piece, Kind.TEXT if markup == plain_piece else Kind.ATOM))

    def _silent(self, node: Node) -> None:
        self.out.append(Seg(str(node), ""))

    def _tag(self, node: Node) -> None:
        assert isinstance(node, Tag)
        tag = str(node.tag).strip().lower()
        if tag == "ref":
            self.out.append(Seg(str(node), "", Kind.REF, node))
        elif node.wiki_markup and tag in {"b", "i"} and node.contents is not None:
            opening, closing = str(node.wiki_markup), str(node.closing_wiki_markup or node.wiki_markup)
            inner: list[Seg] = []
            _Flattener(inner, self.categories).run(node.contents.nodes)
            if opening + "".join(s.markup for s in inner) + closing == str(node):
                self.out.append(Seg(opening, ""))
                self.out.extend(inner)
                self.out.append(Seg(closing, ""))
            else:
                self.out.append(Seg(str(node), plain(node.contents)))
        elif node.wiki_markup and str(node.wiki_markup) in LIST_MARKUP:
            self.out.append(Seg(str(node), "", Kind.MARKER))
        elif tag in VERBATIM_TAGS:
            self.out.append(Seg(str(node), str(node.contents or "")))
        elif tag == "br":
            self.out.append(Seg(str(node), " "))
        else:
            self.out.append(Seg(str(node), plain(node.contents) if node.contents is not None else ""))

    def _template(self, node: Node) -> None:
        assert isinstance(node, Template)
        kind = _TEMPLATE_KINDS.get(normalize_template_name(node.name), Kind.ATOM)
        if kind is Kind.ATOM:
            self.out.append(Seg(str(node), _template_plain(node)))
        else:
            self.out.append(Seg(str(node), "", kind, node))

    def _wikilink(self, node: Node) -> None:
        assert isinstance(node, Wikilink)
        if is_category_link(node) and not str(node.title).strip().startswith(":"):
            self.categories.append(category_name(node))
        elif is_file_link(node):
            self.out.append(Seg(str(node), ""))
        else:
            label = plain(node.text) if node.text is not None else str(node.title).strip().lstrip(":")
            self.out.append(Seg(str(node), label))

    def _external_link(self, node: Node) -> None:
        assert isinstance(node, ExternalLink)
        if node.title is not None:
            self.out.append(Seg(str(node), plain(node.title)))
        else:
            self.out.append(Seg(str(node), "" if node.brackets else str(node.url)))

    def _entity(self, node: Node) -> None:
        assert isinstance(node, HTMLEntity)
        self.out.append(Seg(str(node), node.normalize()))


def flatten(nodes: Iterable[Node | str], out: list[Seg], categories: list[str]) -> None:
    """Append the segments of ``nodes`` to ``out``; the names of category links go to ``categories``."""
    _Flattener(out, categories).run(nodes)


def plain_text(markup: str) -> str:
    """What a claim made of ``markup`` reads as (``Claim.text``); refs and their ``{{rp}}`` say nothing."""
    segs: list[Seg] = []
    flatten(parse(markup).nodes, segs, [])
    return "".join(seg.plain for seg in segs)
