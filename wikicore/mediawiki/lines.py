"""A section body cut into lines, and which lines are blocks kept apart from the prose.

Wikitext is line-based where it matters here: a list item is a line, and a
line holding only templates, files, categories or comments is a block that
import keeps verbatim (in ``templates``, ``media``, ``categories``) instead of
reading it as prose. Export asks the same question (:func:`is_block_line`) to
know where a ref must stay so that a line does not turn into a block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mwparserfromhell.nodes import Comment, Node, Tag, Template, Text, Wikilink

from .markup import is_category_link, is_file_link, normalize_template_name, parse
from .vocabulary import BLOCK_TAGS, DEAD_LINK, INTERLANGUAGE, LIST_MARKUP, MAGIC_WORD, RP, SFN, TEXT_PARAM

__all__ = ["is_block", "is_block_line", "is_list_marker", "lines"]

#: Templates that belong to the prose around them: citation annotations and those that show text.
_INLINE_TEMPLATES = RP | DEAD_LINK | SFN | frozenset(TEXT_PARAM) | {"convert"}


def is_list_marker(item: Node | str) -> bool:
    """Whether ``item`` is the ``*``, ``#``, ``:`` or ``;`` that starts a list line."""
    return isinstance(item, Tag) and bool(item.wiki_markup) and str(item.wiki_markup) in LIST_MARKUP


def is_block(item: Node | str) -> bool:
    """Whether ``item``, alone on a line with others like it, makes the line a block."""
    if isinstance(item, str):
        return bool(MAGIC_WORD.match(item))
    if isinstance(item, Template):
        return normalize_template_name(item.name) not in _INLINE_TEMPLATES
    if isinstance(item, Comment):
        return True
    if isinstance(item, Wikilink):
        title = str(item.title).strip()
        return is_file_link(item) or is_category_link(item) or bool(INTERLANGUAGE.match(title))
    if isinstance(item, Tag):
        return str(item.tag).strip().lower() in BLOCK_TAGS
    return False


def is_block_line(line: str) -> bool:
    """Whether import would keep ``line`` apart as a block (a template, file or category standing alone)."""
    items = [i for i in parse(line).nodes if not (isinstance(i, Text) and not i.value.strip())]
    return bool(items) and all(is_block(i.value if isinstance(i, Text) else i) for i in items)


def lines(nodes: Iterable[Node]) -> Iterator[list[Node | str]]:
    """Top-level nodes cut into lines; each line but the last ends with a ``"\\n"`` item."""
    line: list[Node | str] = []
    for node in nodes:
        if isinstance(node, Text):
            pieces = node.value.split("\n")
            for index, piece in enumerate(pieces):
                if index:
                    line.append("\n")
                    yield line
                    line = []
                if piece:
                    line.append(piece)
        else:
            line.append(node)
    yield line
