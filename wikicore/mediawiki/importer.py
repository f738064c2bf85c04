"""MediaWiki wikitext in: sections, claims, and the references each claim rests on.

Parsing is done by mwparserfromhell, never by regular expressions over markup,
so a ``<ref>`` inside an infobox parameter, a link inside a caption or a
template spanning blank lines are all seen for what they are. What the parser
hands us is walked once:

* headings (any depth) open nested :class:`~wikicore.models.Section` records;
  what comes before the first heading is the lead;
* each section body is cut into lines, and each line is *prose* (it becomes
  part of a paragraph), a *list item* (a paragraph of its own, or a ``see_also``
  title or an external link in those sections), or a *block*: templates,
  files, categories, tables, comments and magic words standing alone, kept
  verbatim in ``templates``/``media``/``categories`` so that export restores
  them (issue 5: "do not silently drop them");
* a paragraph is flattened into segments of (markup, plain text); sentences are
  split on the plain text (:func:`wikicore.sentences.split_sentences`) and the
  segments are dealt out to them, so ``Claim.text`` is what a reader sees and
  ``Claim.wikitext`` the exact markup (without ``<ref>`` tags);
* a ``<ref>`` (or ``{{sfn}}``) becomes a citation of the sentence it follows;
  ``{{rp}}`` right after it gives the locator, ``{{dead link}}`` right after it
  marks the reference dead.

References keep ``raw``: the ref's inner wikitext exactly, plus a
``{{dead link}}`` that followed the tag (the model has no field for its date,
so the date lives in ``raw``; the exporter writes it back inside the ref,
where MediaWiki renders it the same). The CS1 fields are read from ``raw`` by
:func:`parse_ref_content`, which the exporter calls too: a reference whose
fields still match its ``raw`` is written back byte for byte.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from ..errors import BudgetExceeded, ImportFailed
from ..gcpause import paused_gc
from ..importers import register
from ..models import Article, IdMinter, ReferenceType, UrlStatus, short_hash
from ..sentences import split_sentences
from ..serialize import article_from_data

__all__ = [
    "CS1_TYPES",
    "MAX_CHARS",
    "MAX_UNCLOSED_WORK",
    "PAGE_SECONDS",
    "RefContent",
    "import_wikitext",
    "is_block_line",
    "normalize_template_name",
    "parse_date",
    "parse_redirect",
    "parse_ref_content",
    "plain_text",
    "reference_id_for_name",
    "sfn_key",
    "unclosed_markup",
]

#: Largest input we parse (characters); the biggest Wikipedia articles are ~1 MB.
#: The page's size budget: mwparserfromhell tokenizes about 1 MB of ordinary markup in 1-4 s here.
MAX_CHARS = 10 * 1024 * 1024

#: The page's work budget for markup that never closes: (unclosed openers) x (characters of the page).
#: mwparserfromhell retries each unclosed ``{{``, tag start (``<ref `` with no ``>``) and, more cheaply,
#: ``[``, over the rest of the page: 4,000 unclosed ``{{a|`` took 27-38 s, 10,000 never finished,
#: 10 of them before 1 MB of prose took 23 s (3.9 s without), 500 ``<ref name=`` 2.3 s (issue 9,
#: measured on a loaded 2-core machine: 1-2 us per unit). 2M units keep a page under a few seconds,
#: and no real article we have comes near: the ten npm real articles and every fixture have 0 or
#: close to it (Anarchism: 4 stray ``[`` in 190 KB).
MAX_UNCLOSED_WORK = 2_000_000
#: Weight of an unclosed ``[``: about a sixteenth of an unclosed template in the measurements above,
#: counted as a quarter to stay on the safe side.
_BRACKET_WEIGHT = 4

#: The page's time budget (seconds), checked between sections and paragraphs. The tokenizer itself
#: cannot be interrupted, which is why MAX_CHARS and MAX_UNCLOSED_WORK bound it beforehand; this
#: catches whatever else grows too slow. 4,000 sections of repeated text (580 KB) import in ~1.5 s.
PAGE_SECONDS = 60.0

#: CS1 template names (normalised) and the reference type each one means.
CS1_TYPES: dict[str, ReferenceType] = {
    "cite web": ReferenceType.WEB,
    "cite tweet": ReferenceType.WEB,
    "cite press release": ReferenceType.WEB,
    "cite news": ReferenceType.NEWS,
    "cite newspaper": ReferenceType.NEWS,
    "cite magazine": ReferenceType.NEWS,
    "cite journal": ReferenceType.JOURNAL,
    "cite conference": ReferenceType.JOURNAL,
    "cite arxiv": ReferenceType.JOURNAL,
    "cite biorxiv": ReferenceType.JOURNAL,
    "cite ssrn": ReferenceType.JOURNAL,
    "cite citeseerx": ReferenceType.JOURNAL,
    "cite book": ReferenceType.BOOK,
    "cite encyclopedia": ReferenceType.BOOK,
    "cite dictionary": ReferenceType.BOOK,
    "cite thesis": ReferenceType.BOOK,
    "cite report": ReferenceType.BOOK,
    "cite av media": ReferenceType.VIDEO,
    "cite video": ReferenceType.VIDEO,
    "cite episode": ReferenceType.VIDEO,
    "cite serial": ReferenceType.VIDEO,
    "cite podcast": ReferenceType.VIDEO,
    "cite av media notes": ReferenceType.VIDEO,
}

# Templates that annotate the ref right before them instead of saying anything.
_RP = frozenset({"rp", "page needed"})
_DEAD_LINK = frozenset({"dead link", "deadlink", "dead", "dl", "404", "broken link", "link broken"})
_SFN = frozenset({"sfn", "sfnp", "sfnm"})
# Templates whose plain text is one of their parameters (the rest render as nothing).
_TEXT_PARAM = {"lang": "2", "nowrap": "1", "nobr": "1", "small": "1", "abbr": "1", "lang-en": "1", "noitalic": "1",
               "transl": "2", "nihongo": "1", "ill": "1", "interlanguage link": "1", "visible anchor": "1"}
_BLOCK_TAGS = frozenset({"references", "gallery", "div", "center", "imagemap", "templatestyles", "mapframe",
                         "timeline", "graph", "score", "hr", "noinclude", "includeonly", "onlyinclude", "table"})
_FILE_PREFIXES = ("file:", "image:", "datei:", "fichier:", "ファイル:", "画像:")
_CATEGORY_PREFIXES = ("category:", "kategorie:", "catégorie:", "カテゴリ:")
_LIST_MARKUP = frozenset("*#:;")
_MAGIC_WORD = re.compile(r"^\s*__[A-Z]+__\s*$")
_INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})*:")
_IMAGE_OPTION = re.compile(
    r"^\s*(?:thumb|thumbnail|frame|framed|frameless|border|left|right|center|centre|none|upright(?:\s*=?\s*[\d.]+)?"
    r"|baseline|middle|sub|super|top|text-top|bottom|text-bottom|\d*x?\d+\s*px|(?:alt|link|class|page|lang|upright)\s*=.*)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_REDIRECT = re.compile(r"^\s*#REDIRECT\s*:?\s*\[\[([^\[\]|#]*)(#[^\[\]|]*)?(?:\|[^\[\]]*)?\]\]", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
_ESCAPED_MARKUP = re.compile(r"&(lt|gt|quot|amp);")
_APOSTROPHES = re.compile(r"'{2,}")
_OPENERS = re.compile(r"\{\{|\}\}|<[A-Za-z][^<>]*(?=<|\Z)|\[|\]")
_COLLAPSED_HEADING = re.compile(r"(?<=\S)[ \t]+(={2,6})([^=\n]{1,200}?)\1(?=[ \t]+\S)")


# --- small helpers ---------------------------------------------------------------


def _parse(text: str) -> Wikicode:
    # Style tags are left as text: mwparserfromhell lets an unclosed '' run on
    # across lines and paragraphs (swallowing headings), which MediaWiki never
    # does; apostrophe runs are handled per text segment instead.
    return mwparserfromhell.parse(text, skip_style_tags=True)


def _literal_apostrophes(match: re.Match[str]) -> str:
    """What an apostrophe run leaves in plain text: 4 = one ' and bold; over 5 = the extra ones."""
    run = len(match.group(0))
    return "'" if run == 4 else "'" * (run - 5) if run > 5 else ""


def _apostrophe_segments(text: str) -> Iterator[tuple[str, str]]:
    """Cut a text node into (markup, plain) pieces at bold/italic marks."""
    position = 0
    for match in _APOSTROPHES.finditer(text):
        if match.start() > position:
            piece = text[position:match.start()]
            yield piece, piece
        yield match.group(0), _literal_apostrophes(match)
        position = match.end()
    if position < len(text):
        yield text[position:], text[position:]


def normalize_template_name(name: str | Wikicode) -> str:
    """``Cite_Web `` → ``cite web``: how MediaWiki compares template names (near enough)."""
    text = str(name).replace("_", " ").strip()
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = text.removeprefix("Template:").removeprefix("template:")
    return " ".join(text.split()).lower()


def _plain(code: Wikicode | str) -> str:
    """What a reader sees of a piece of markup: links as labels, entities decoded, templates dropped."""
    if isinstance(code, str):
        return _plain_cached(code)
    return _plain_code(code)


@functools.lru_cache(maxsize=4096)
def _plain_cached(text: str) -> str:
    # Parameter values repeat a lot (publishers, works, dates): parse each once.
    return _plain_code(_parse(text))


def _plain_code(parsed: Wikicode) -> str:
    text = str(parsed.strip_code(normalize=True, collapse=True))
    return " ".join(_APOSTROPHES.sub(_literal_apostrophes, text).split())


def parse_redirect(text: str) -> str | None:
    """The target title of a ``#REDIRECT [[X]]`` page, or ``None`` if ``text`` is not a redirect.

    The magic word is matched at the very start of the page, as MediaWiki does;
    a section anchor (``[[X#History]]``) is dropped: an alias names an article.
    """
    match = _REDIRECT.match(text)
    if not match:
        return None
    target = " ".join(match.group(1).replace("_", " ").split())
    return target or None


def reference_id_for_name(name: str) -> str:
    """A stable reference id for a ref name: ``r-`` plus the name in ASCII, else a hash of it."""
    if re.fullmatch(r"r-[A-Za-z0-9][A-Za-z0-9._:-]{0,77}", name):
        return name  # an id the exporter used as a name: keep it, so export→import is stable
    ascii_name = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    if ascii_name and len(ascii_name) <= 60 and ascii_name.isascii():
        return f"r-{ascii_name}"
    return f"r-{short_hash(name)}"


_MONTHS = {name: index for index, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}


def parse_date(value: str) -> str | None:
    """A CS1 date (``30 December 2013``, ``December 30, 2013``, ``2013-12``, ``2005a``) as ISO, or None."""
    text = " ".join(value.replace("\u00a0", " ").split()).strip(" .")
    if not text:
        return None
    year = month = day = None
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?[a-z]?", text):
        year, month, day = int(m[1]), m[2] and int(m[2]), m[3] and int(m[3])
    elif m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+)\.?,? (\d{4})", text):
        day, month, year = int(m[1]), _MONTHS.get(m[2].lower()), int(m[3])
        if month is None:
            return None
    elif m := re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})", text):
        month, day, year = _MONTHS.get(m[1].lower()), int(m[2]), int(m[3])
        if month is None:
            return None
    elif m := re.fullmatch(r"([A-Za-z]+)\.?,? (\d{4})", text):
        month, year = _MONTHS.get(m[1].lower()), int(m[2])
        if month is None:
            return None
    else:
        return None
    try:
        _dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    if day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if month:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


_LANGUAGES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "japanese": "ja",
              "russian": "ru", "chinese": "zh", "portuguese": "pt", "dutch": "nl", "polish": "pl", "swedish": "sv",
              "korean": "ko", "arabic": "ar", "turkish": "tr", "azerbaijani": "az", "ukrainian": "uk",
              "norwegian": "no", "danish": "da", "finnish": "fi", "czech": "cs", "hungarian": "hu",
              "greek": "el", "hebrew": "he", "persian": "fa", "hindi": "hi", "afrikaans": "af"}


def _language(value: str) -> str | None:
    text = value.strip()
    code = _LANGUAGES.get(text.lower(), text)
    return code if re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", code) else None


def _https(url: str) -> str:
    # Protocol-relative links (//web.archive.org/...) are https today (issue 5).
    return "https:" + url if url.startswith("//") else url


# --- reference content -------------------------------------------------------------


@dataclass(frozen=True)
class RefContent:
    """What a ref's inner wikitext says: reference fields, plus the locator and quote of its citations.

    ``fields`` uses :class:`~wikicore.models.Reference` field names; empty fields
    are left out. ``warnings`` lists what could not be read (kept in ``raw``).
    """

    fields: dict[str, Any]
    locator: str | None = None
    quote: str | None = None
    warnings: tuple[str, ...] = ()


def _params_of(template: Template) -> dict[str, str]:
    """A template's parameters once, as stripped wikitext without comments (CS1 looks up dozens of names)."""
    params: dict[str, str] = {}
    for param in template.params:
        value = str(param.value)
        if "<!--" in value:
            value = re.sub(r"<!--.*?-->", "", value, flags=re.DOTALL)
        value = value.strip()
        if value:
            params.setdefault(str(param.name).strip(), value)
    return params


def _param(params: dict[str, str], *names: str) -> str | None:
    """The first non-empty parameter among ``names`` (both CS1 generations)."""
    for name in names:
        value = params.get(name)
        if value:
            return value
    return None


def _authors(params: dict[str, str]) -> list[str]:
    """Authors in order: ``lastN, firstN`` when split, else ``authorN``; ``authors``/``vauthors`` as given."""
    authors: list[str] = []
    for n in range(1, 100):
        suffixes = [str(n)] + ([""] if n == 1 else [])
        last = first = None
        for s in suffixes:
            last = last or _param(params, f"last{s}", f"surname{s}", f"author{s}", f"author-last{s}",
                                  f"author{s}-last", f"last-author{s}" if s else "last-author")
            first = first or _param(params, f"first{s}", f"given{s}", f"author-first{s}", f"author{s}-first")
        if last is None:
            if n > 1:
                break
            continue
        last_text = _plain(last)
        authors.append(f"{last_text}, {_plain(first)}" if first else last_text)
    if not authors:
        if value := _param(params, "vauthors"):
            authors = [a.strip() for a in _plain(value).split(",") if a.strip()]
        elif value := _param(params, "authors", "people"):
            authors = [_plain(value)]
    return [a for a in authors if a]


def _type_of(name: str, params: dict[str, str]) -> ReferenceType:
    if name in CS1_TYPES:
        return CS1_TYPES[name]
    # {{citation}} and the other cite templates: infer from the periodical parameters.
    if _param(params, "journal"):
        return ReferenceType.JOURNAL
    if _param(params, "newspaper", "magazine"):
        return ReferenceType.NEWS
    if _param(params, "url") and not _param(params, "isbn", "ISBN"):
        return ReferenceType.WEB
    return ReferenceType.BOOK


def _is_cs1(name: str) -> bool:
    return name in CS1_TYPES or name == "citation" or name.startswith("cite ")


def _cs1_fields(template: Template, warnings: list[str]) -> tuple[dict[str, Any], str | None, str | None]:
    name = normalize_template_name(template.name)
    params = _params_of(template)
    fields: dict[str, Any] = {"type": _type_of(name, params)}
    if title := _param(params, "title", "script-title", "trans-title"):
        fields["title"] = _plain(title)
    if authors := _authors(params):
        fields["authors"] = authors
    date_text = _param(params, "date") or _param(params, "year")
    if date_text:
        date = parse_date(_plain(date_text))
        if date is None:
            warnings.append(f"could not read the date {_plain(date_text)!r} (kept in raw)")
        else:
            fields["date"] = date
    simple = {
        "publisher": ("publisher", "institution"),
        "work": ("work", "website", "newspaper", "journal", "magazine", "periodical", "encyclopedia",
                 "encyclopaedia", "dictionary"),
        "via": ("via",),
        "volume": ("volume",),
        "issue": ("issue", "number"),
        "isbn": ("isbn", "ISBN", "isbn13", "ISBN13"),
        "doi": ("doi", "DOI"),
        "issn": ("issn", "ISSN", "eissn"),
    }
    for key, names in simple.items():
        if value := _param(params, *names):
            fields[key] = _plain(value)
    if url := _param(params, "url", "URL", "chapter-url", "chapterurl"):
        fields["url"] = _https(url)
    if value := _param(params, "archive-url", "archiveurl"):
        fields["archive_url"] = _https(value)
    for key, names in (("access_date", ("access-date", "accessdate")),
                       ("archive_date", ("archive-date", "archivedate"))):
        if value := _param(params, *names):
            date = parse_date(_plain(value))
            if date is None:
                warnings.append(f"could not read the {names[0]} {_plain(value)!r} (kept in raw)")
            else:
                fields[key] = date
    if value := _param(params, "language", "lang"):
        if code := _language(_plain(value)):
            fields["language"] = code
    status = _param(params, "url-status")
    if status and status.strip().lower() in {s.value for s in UrlStatus}:
        fields["url_status"] = UrlStatus(status.strip().lower())
    elif dead := _param(params, "deadurl", "dead-url"):
        if dead.strip().lower() in {"yes", "true", "y"}:
            fields["url_status"] = UrlStatus.DEAD
        elif dead.strip().lower() in {"no", "false", "n"}:
            fields["url_status"] = UrlStatus.LIVE
    locator = _param(params, "page", "pages", "at", "p", "pp")
    quote = _param(params, "quote")
    return fields, _plain(locator) if locator else None, _plain(quote) if quote else None


def parse_ref_content(raw: str, parsed: Wikicode | None = None) -> RefContent:
    """Read a ref's inner wikitext: the first CS1 template's fields, else a free-text reference.

    A ref that holds no CS1 template is ``type: other``; its first external link
    still gives ``url`` (and ``title`` from the link's label) so audits can check it.
    ``{{dead link}}`` anywhere in the ref sets ``url_status: dead``.
    """
    warnings: list[str] = []
    code = parsed if parsed is not None else _parse(raw)  # the caller may hand in what it already parsed
    templates = code.filter_templates(recursive=False)
    cs1 = next((t for t in templates if _is_cs1(normalize_template_name(t.name))), None)
    locator = quote = None
    if cs1 is not None:
        fields, locator, quote = _cs1_fields(cs1, warnings)
    else:
        fields = {"type": ReferenceType.OTHER}
        link = next(iter(code.filter_external_links()), None)
        if link is not None:
            fields["url"] = _https(str(link.url).strip())
            if link.title is not None and _plain(link.title):
                fields["title"] = _plain(link.title)
    if any(normalize_template_name(t.name) in _DEAD_LINK for t in templates):
        fields["url_status"] = UrlStatus.DEAD
    return RefContent(fields=fields, locator=locator, quote=quote, warnings=tuple(warnings))


def sfn_key(authors: Sequence[str], date: str | None) -> tuple[tuple[str, ...], str] | None:
    """How ``{{sfn}}`` finds a full reference: up to four author surnames (case-folded) and the year."""
    if not authors or not date:
        return None
    surnames = tuple(a.split(",")[0].strip().casefold() for a in authors[:4])
    return surnames, date[:4]


# --- segments: markup and plain text side by side ----------------------------------


@dataclass
class _Seg:
    """One piece of a paragraph: its exact markup and what a reader sees of it."""

    markup: str
    plain: str
    kind: str = "atom"  # text | atom | marker | ref | sfn | rp | dead | gap
    node: Node | None = None


def _template_plain(template: Template) -> str:
    name = normalize_template_name(template.name)
    param = _TEXT_PARAM.get(name)
    if param and template.has(param):
        return _plain(template.get(param).value)
    if name == "convert" and template.has("1") and template.has("2"):
        return f"{_plain(template.get('1').value)} {_plain(template.get('2').value)}"
    return ""


def _is_file_link(link: Wikilink) -> bool:
    return str(link.title).strip().lower().startswith(_FILE_PREFIXES)


def _is_category_link(link: Wikilink) -> bool:
    return str(link.title).strip().lower().startswith(_CATEGORY_PREFIXES)


def _category_name(link: Wikilink) -> str:
    name = str(link.title).strip().split(":", 1)[1].strip()
    return f"{name}|{link.text}" if link.text is not None else name


def _flatten(nodes: Iterable[Node | str], out: list[_Seg], categories: list[str]) -> None:
    """Turn parsed nodes into segments; bold and italic are opened so sentences may split inside them."""
    buffer: list[str] = []

    def flush_text() -> None:
        # Adjacent text nodes are joined first, so an apostrophe run split across them is one run.
        if buffer:
            text = "".join(buffer)
            if out and out[-1].kind == "marker" and text[:1].isspace():
                # "* item": the space after a list marker is layout, not part of the claim's text.
                space = text[: len(text) - len(text.lstrip())]
                out.append(_Seg(space, ""))
                text = text[len(space):]
            for markup, plain in _apostrophe_segments(text):
                out.append(_Seg(markup, plain, "text" if markup == plain else "atom"))
            buffer.clear()

    for node in nodes:
        if isinstance(node, str | Text):
            buffer.append(node if isinstance(node, str) else node.value)
            continue
        flush_text()
        if isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag == "ref":
                out.append(_Seg(str(node), "", "ref", node))
            elif node.wiki_markup and tag in {"b", "i"} and node.contents is not None:
                opening, closing = str(node.wiki_markup), str(node.closing_wiki_markup or node.wiki_markup)
                inner: list[_Seg] = []
                _flatten(node.contents.nodes, inner, categories)
                if opening + "".join(s.markup for s in inner) + closing == str(node):
                    out.append(_Seg(opening, ""))
                    out.extend(inner)
                    out.append(_Seg(closing, ""))
                else:
                    out.append(_Seg(str(node), _plain(node.contents)))
            elif node.wiki_markup and str(node.wiki_markup) in _LIST_MARKUP:
                out.append(_Seg(str(node), "", "marker"))
            elif tag in {"nowiki", "pre", "code", "math", "syntaxhighlight", "source", "chem"}:
                out.append(_Seg(str(node), str(node.contents or "")))
            elif tag == "br":
                out.append(_Seg(str(node), " "))
            else:
                out.append(_Seg(str(node), _plain(node.contents) if node.contents is not None else ""))
        elif isinstance(node, Template):
            name = normalize_template_name(node.name)
            kind = "rp" if name in _RP else "dead" if name in _DEAD_LINK else "sfn" if name in _SFN else "atom"
            out.append(_Seg(str(node), _template_plain(node) if kind == "atom" else "", kind, node))
        elif isinstance(node, Wikilink):
            if _is_category_link(node) and not str(node.title).strip().startswith(":"):
                categories.append(_category_name(node))
            elif _is_file_link(node):
                out.append(_Seg(str(node), ""))
            else:
                label = _plain(node.text) if node.text is not None else str(node.title).strip().lstrip(":")
                out.append(_Seg(str(node), label))
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                out.append(_Seg(str(node), _plain(node.title)))
            else:
                out.append(_Seg(str(node), "" if node.brackets else str(node.url), "atom"))
        elif isinstance(node, HTMLEntity):
            out.append(_Seg(str(node), node.normalize()))
        elif isinstance(node, Comment):
            out.append(_Seg(str(node), ""))
        else:  # Argument, Heading inside a tag, anything new
            out.append(_Seg(str(node), ""))
    flush_text()


def plain_text(markup: str) -> str:
    """What a claim made of ``markup`` reads as (``Claim.text``); refs and their ``{{rp}}`` say nothing."""
    segs: list[_Seg] = []
    _flatten(_parse(markup).nodes, segs, [])
    return "".join(seg.plain for seg in segs)


# --- the builder -------------------------------------------------------------------


@dataclass
class _RefState:
    """A reference being collected: its definition may come after its first use."""

    key: tuple[str, str]
    order: int
    name: str | None = None
    content: str | None = None
    dead_suffix: str = ""
    in_template: bool = False
    parsed: Wikicode | None = None


@dataclass
class _Use:
    """One citation before references are resolved: which ref, and the ``{{rp}}`` after it."""

    key: tuple[str, str]
    rp: tuple[str | None, str | None] | None = None
    sfn: tuple[tuple[str, ...], str, str | None] | None = None


@dataclass
class _Builder:
    warnings: list[str]
    refs: dict[tuple[str, str], _RefState] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)
    external_links: list[dict[str, Any]] = field(default_factory=list)
    section_ids: IdMinter = field(default_factory=IdMinter)
    deadline: _Deadline | None = None
    anonymous: int = 0
    # Kept markup whose refs are registered after the prose, templates before
    # media, so that the order of uncited references does not depend on where
    # export puts kept markup within a section.
    kept_templates: list[tuple[Wikicode, Template | None]] = field(default_factory=list)
    kept_media: list[Wikicode] = field(default_factory=list)

    # --- references -----------------------------------------------------------

    def _ref_state(self, key: tuple[str, str], name: str | None = None) -> _RefState:
        state = self.refs.get(key)
        if state is None:
            state = self.refs[key] = _RefState(key=key, order=len(self.refs), name=name)
        return state

    def ref_tag(self, tag: Tag, in_template: bool = False) -> tuple[str, str]:
        """Register a ``<ref>`` tag and return the key of its reference."""
        name = group = None
        for attr in tag.attributes:
            attr_name = str(attr.name).strip().lower()
            if attr_name == "name":
                name = str(attr.value).strip()
            elif attr_name == "group":
                group = str(attr.value).strip()
        if group:
            self.warnings.append(f"ref group {group!r} is not kept (the model has no groups)")
        content = None if tag.self_closing or tag.contents is None else str(tag.contents)
        if content is not None and not content.strip():
            content = None
        if name:
            state = self._ref_state(("name", name), name)
            if content is not None:
                if state.content is None:
                    state.content = content
                    state.parsed = tag.contents
                    state.in_template = in_template
                elif state.content.strip() != content.strip():
                    self.warnings.append(f"ref name {name!r} is defined twice with different content; "
                                         "the first definition is kept")
            return state.key
        self.anonymous += 1
        state = self._ref_state(("anon", str(self.anonymous)))
        state.content = content if content is not None else ""
        state.parsed = tag.contents if content is not None else None
        state.in_template = in_template
        return state.key

    def scan_refs(self, code: Wikicode) -> None:
        """Register the refs inside verbatim markup (infobox, table, ``{{reflist|refs=}}``): definitions only."""
        for tag in code.filter_tags(recursive=True):
            if str(tag.tag).strip().lower() == "ref":
                self.ref_tag(tag, in_template=True)

    def bibliography(self, template: Template) -> None:
        """A CS1 template standing alone (a "Sources" list): a reference ``{{sfn}}`` can point at."""
        self.anonymous += 1
        state = self._ref_state(("bib", str(self.anonymous)))
        state.content = str(template)
        state.parsed = Wikicode([template])
        state.in_template = True

    # --- sections ---------------------------------------------------------------

    def section_id(self, heading: str) -> str:
        # The same scheme Article mints with, computed here because media and
        # templates must name their section before the article exists.
        return self.section_ids.mint(f"s-{short_hash(heading)}")

    def body(self, nodes: list[Node], section_id: str | None, heading: str) -> list[dict[str, Any]]:
        """Import one section body (or the lead): returns its paragraphs as dicts."""
        kind = heading.strip().lower()
        special = "see_also" if kind == "see also" else "external" if kind in {"external links", "external link"} \
            else None
        paragraphs: list[dict[str, Any]] = []
        pending: list[Node | str] = []

        def flush() -> None:
            if pending:
                while pending and isinstance(pending[-1], str) and pending[-1] == "\n":
                    pending.pop()
                para = self.paragraph(pending, paragraphs)
                if para is not None:
                    paragraphs.append(para)
                pending.clear()

        for line in _lines(nodes):
            items = [i for i in line if not (isinstance(i, str) and not i.strip())]
            if not items:
                flush()
                continue
            first = items[0]
            if isinstance(first, Tag) and first.wiki_markup and str(first.wiki_markup) in _LIST_MARKUP:
                flush()
                if special and self.special_item(special, items[1:], line, section_id):
                    continue
                content = [i for i in items[1:] if not (isinstance(i, Tag) and i.wiki_markup
                                                          and str(i.wiki_markup) in _LIST_MARKUP)]
                if len(content) == 1 and isinstance(content[0], Template) \
                        and _is_cs1(normalize_template_name(content[0].name)):
                    self.add_template(content[0], section_id, wikitext="".join(map(str, line)).strip(),
                                      bib=content[0])
                    continue
                pending.extend(line)
                flush()
            elif all(_is_block(i) for i in items):
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
            if len(content) == 1 and isinstance(content[0], Wikilink) and not _is_file_link(content[0]):
                self.see_also.append(str(content[0].title).strip())
                return True
            return False
        if len(content) == 1 and isinstance(content[0], Template):
            template = content[0]
            url = next((str(template.get(p).value).strip() for p in ("url", "1")
                        if template.has(p) and str(template.get(p).value).strip().startswith(("http", "//"))),
                       None)
            if url is None:
                self.add_template(template, section_id, wikitext="".join(map(str, line)).strip())
                return True
            self.external_links.append({"title": str(template.name).strip(), "url": _https(url)})
            return True
        code = _parse("".join(map(str, items)))
        link = next(iter(code.filter_external_links()), None)
        title = _plain(code)
        if not title and link is None:
            return False
        entry: dict[str, Any] = {"title": title or str(link.url if link else "")}
        if link is not None:
            entry["url"] = str(link.url).strip()
        self.external_links.append(entry)
        return True

    def add_template(self, node: Node | str, section_id: str | None, name: str | None = None,
                     wikitext: str | None = None, bib: Template | None = None) -> None:
        text = wikitext if wikitext is not None else str(node).strip()
        if name is None:
            name = str(node.name).strip() if isinstance(node, Template) else type(node).__name__
        record: dict[str, Any] = {"name": name or "?", "wikitext": text}
        if section_id:
            record["section"] = section_id
        self.templates.append(record)
        if not isinstance(node, str):
            self.kept_templates.append((_parse(text) if wikitext is not None else Wikicode([node]), bib))

    def scan_kept(self) -> None:
        """Register the references of kept markup, in list order (see ``kept_templates``)."""
        for code, bib in self.kept_templates:
            if bib is not None:
                self.bibliography(bib)
            self.scan_refs(code)
        for code in self.kept_media:
            self.scan_refs(code)

    def block(self, item: Node | str, section_id: str | None) -> None:
        """Keep a stand-alone element where export can find it again."""
        if isinstance(item, str):
            self.add_template(item, section_id, name=item.strip(), wikitext=item.strip())
        elif isinstance(item, Template):
            bib = item if _is_cs1(normalize_template_name(item.name)) else None
            self.add_template(item, section_id, bib=bib)
        elif isinstance(item, Comment):
            self.add_template(item, section_id, name="#comment")
        elif isinstance(item, Wikilink):
            if _is_category_link(item):
                self.categories.append(_category_name(item))
            elif _is_file_link(item):
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
        parts = _split_pipes(link.text) if link.text is not None else []
        captions = [p for p in parts if not _IMAGE_OPTION.match(str(p))]
        record: dict[str, Any] = {
            "kind": "image",
            "file": str(link.title).strip().split(":", 1)[1].strip(),
            "caption": _plain(captions[-1]) if captions else "",
            "raw": str(link),
        }
        if section_id:
            record["section"] = section_id
        self.media.append(record)
        self.kept_media.append(Wikicode([link]))

    # --- paragraphs and claims ----------------------------------------------------

    def paragraph(self, nodes: list[Node | str], previous: list[dict[str, Any]]) -> dict[str, Any] | None:
        if self.deadline is not None:
            self.deadline.check()
        segs: list[_Seg] = []
        _flatten(nodes, segs, self.categories)
        # Attach {{rp}} and {{dead link}} to the ref they follow (spaces between allowed).
        last_use: _Use | None = None
        last_key: tuple[str, str] | None = None
        kept: list[_Seg] = []
        use_at: list[tuple[int, _Use]] = []  # (index into kept, use)
        for seg in segs:
            if seg.kind == "ref":
                assert isinstance(seg.node, Tag)
                last_key = self.ref_tag(seg.node)
                last_use = _Use(last_key)
                use_at.append((len(kept), last_use))
                kept.append(_Seg("", "", "gap"))
                continue
            if seg.kind == "sfn":
                assert isinstance(seg.node, Template)
                last_use = self.sfn_use(seg.node)
                last_key = None
                use_at.append((len(kept), last_use))
                kept.append(_Seg("", "", "gap"))  # export may write it as a <ref>: same gap rule
                continue
            if seg.kind == "rp" and last_use is not None and last_use.rp is None:
                assert isinstance(seg.node, Template)
                last_use.rp = _rp_values(seg.node)
                continue
            if seg.kind == "dead" and last_key is not None:
                state = self.refs[last_key]
                if not state.dead_suffix and "dead link" not in (state.content or "").lower():
                    state.dead_suffix = seg.markup
                continue
            if seg.kind == "text" and not seg.markup.strip() and "\n" not in seg.markup:
                kept.append(seg)  # spaces between a ref and its {{rp}} keep the chain going
                continue
            last_use = None
            last_key = None
            kept.append(seg)
        # A ref may keep the markup on its two sides apart (two apostrophe runs, the end of a bare
        # URL, brackets): if the two sides read differently once joined, the claim keeps a
        # <nowiki/> there, so that export (which moves refs to the claim's end) reads the same.
        for index, seg in enumerate(kept):
            if seg.kind != "gap" or index == 0 or kept[index - 1].kind == "gap":
                continue
            after = next((k for k in kept[index + 1:] if k.kind != "gap" or k.markup), None)
            if after is None or not after.markup[:1] or after.markup[:1].isspace():
                continue
            tail = ""  # the run of non-space markup right before the ref
            for earlier in reversed(kept[:index]):
                if earlier.kind == "gap":
                    break  # another ref keeps what is before it apart as well
                tail = earlier.markup + tail
                if any(ch.isspace() for ch in earlier.markup) or len(tail) > 500:
                    break
            tail = "" if not tail or tail[-1].isspace() else tail.split()[-1]
            if not tail:
                continue  # space before the ref: nothing can join across it
            head = ""  # the run of non-space markup right after it
            for following in kept[index + 1:]:
                if following.kind == "gap" and head:
                    break  # a later ref keeps what follows it apart (refs right after this one do not)
                head += following.markup
                if any(ch.isspace() for ch in following.markup) or len(head) > 500:
                    break
            head = head.split()[0] if head.split() else ""
            if plain_text(tail + head) != plain_text(tail) + plain_text(head):
                seg.markup = "<nowiki/>"
        # Plain offsets of each kept segment.
        offsets: list[int] = []
        plain_parts: list[str] = []
        position = 0
        for seg in kept:
            offsets.append(position)
            plain_parts.append(seg.plain)
            position += len(seg.plain)
        plain = "".join(plain_parts)
        if not plain.strip() and not any(s.markup.strip() for s in kept):
            # Nothing but refs: they support the claim before them.
            if use_at and previous and previous[-1]["claims"]:
                previous[-1]["claims"][-1]["citations"].extend(u for _, u in use_at)
                return None
            if not use_at:
                return None
            return {"claims": [{"text": "", "citations": [u for _, u in use_at]}]}
        starts = [0]
        for sentence in split_sentences(plain)[:-1]:
            starts.append(starts[-1] + len(sentence))

        def sentence_at(offset: int) -> int:
            low, high = 0, len(starts) - 1
            while low < high:
                mid = (low + high + 1) // 2
                if starts[mid] <= offset:
                    low = mid
                else:
                    high = mid - 1
            return low

        markup: dict[int, list[str]] = {}
        text: dict[int, list[str]] = {}
        for seg, offset in zip(kept, offsets, strict=True):
            if seg.kind == "text" and seg.plain:
                cut, end_of_seg = 0, offset + len(seg.plain)
                index = sentence_at(offset)
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
                index = sentence_at(offset)
                markup.setdefault(index, []).append(seg.markup)
                text.setdefault(index, []).append(seg.plain)
        citations: dict[int, list[_Use]] = {}
        for kept_index, use in use_at:
            offset = offsets[kept_index] if kept_index < len(offsets) else position
            citations.setdefault(sentence_at(offset - 1) if offset > 0 else 0, []).append(use)
        claims: list[dict[str, Any]] = []
        carry: list[_Use] = []
        for index in sorted(set(markup) | set(citations)):
            claim_markup = "".join(markup.get(index, []))
            if not claim_markup:
                carry.extend(citations.get(index, []))
                continue
            claim_text = "".join(text.get(index, []))
            claim: dict[str, Any] = {"text": claim_text, "citations": carry + citations.get(index, [])}
            carry = []
            if claim_markup != claim_text:
                claim["wikitext"] = claim_markup
            claims.append(claim)
        if carry:
            if claims:
                claims[-1]["citations"].extend(carry)
            else:
                claims.append({"text": "", "citations": carry})
        return {"claims": claims} if claims else None

    def sfn_use(self, template: Template) -> _Use:
        positional = [str(p.value).strip() for p in template.params if not p.showkey]
        named = {str(p.name).strip().lower(): str(p.value).strip() for p in template.params if p.showkey}
        locator = next((named[k] for k in ("p", "pp", "loc", "page", "pages", "at") if named.get(k)), None)
        year = positional[-1] if positional else ""
        authors = tuple(a.casefold() for a in positional[:-1])
        use = _Use(("sfn", str(template)))
        use.sfn = (authors, year[:4], _plain(locator) if locator else None)
        return use

    # --- the article ------------------------------------------------------------

    def references(self, uses: list[_Use]) -> tuple[list[dict[str, Any]], dict[tuple[str, str], RefContent]]:
        """Resolve sfn uses, order references (first cited first) and mint their ids."""
        contents: dict[tuple[str, str], RefContent] = {}
        for key, state in self.refs.items():
            if state.content is not None:
                parsed = None if state.dead_suffix else state.parsed
                contents[key] = parse_ref_content(state.content + state.dead_suffix, parsed)
        by_sfn: dict[tuple[tuple[str, ...], str], tuple[str, str]] = {}
        for key, content in contents.items():
            sk = sfn_key(content.fields.get("authors", []), content.fields.get("date"))
            if sk is not None:
                by_sfn.setdefault(sk, key)
        for use in uses:
            if use.sfn is None:
                continue
            authors, year, _ = use.sfn
            found = by_sfn.get((authors, year))
            if found is None:
                found = next((k for (names, y), k in by_sfn.items()
                              if y == year and names[:len(authors)] == authors), None)
            if found is not None:
                use.key = found
            else:
                self.warnings.append(f"{use.key[1]}: no full reference by {', '.join(authors)} {year}; "
                                     "kept as written")
                state = self._ref_state(use.key)
                state.content = use.key[1]
                contents[use.key] = RefContent(fields={"type": ReferenceType.OTHER})
        first_use: dict[tuple[str, str], int] = {}
        for index, use in enumerate(uses):
            first_use.setdefault(use.key, index)
        ordered = sorted(self.refs.values(), key=lambda s: (s.key not in first_use,
                                                            first_use.get(s.key, 0), s.order))
        minter = IdMinter()
        references: list[dict[str, Any]] = []
        self.ids: dict[tuple[str, str], str] = {}
        for state in ordered:
            raw = None if state.content is None else state.content + state.dead_suffix
            base = reference_id_for_name(state.name) if state.name else f"r-{short_hash(raw or '')}"
            ident = minter.mint(base)
            self.ids[state.key] = ident
            record: dict[str, Any] = {"id": ident}
            if state.name:
                record["name"] = state.name
            if state.content is None:
                self.warnings.append(f"ref name {state.name!r} is used but never defined")
                references.append(record)
                continue
            content = contents[state.key]
            for warning in content.warnings:
                self.warnings.append(f"reference {ident}: {warning}")
            record.update(content.fields)
            record["raw"] = raw
            references.append(record)
        return references, contents

    def citation(self, use: _Use, contents: dict[tuple[str, str], RefContent]) -> dict[str, Any]:
        content = contents.get(use.key)
        locator = content.locator if content else None
        quote = content.quote if content else None
        if use.sfn is not None and use.key[0] != "sfn":
            locator = use.sfn[2]
        if use.rp is not None:
            locator = use.rp[0]
            quote = use.rp[1] if use.rp[1] is not None else quote
        record: dict[str, Any] = {"ref": self.ids[use.key]}
        if locator:
            record["locator"] = locator
        if quote:
            record["quote"] = quote
        return record


def _rp_values(template: Template) -> tuple[str | None, str | None]:
    locator = None
    quote = None
    for param in template.params:
        name = str(param.name).strip().lower()
        value = str(param.value).strip()
        if (not param.showkey and name == "1") or name in {"page", "pages", "at", "p", "pp", "loc"}:
            locator = locator or (_plain(value) or None)
        elif name in {"quote", "q"}:
            quote = _plain(value) or None
    return locator, quote


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


def _is_block(item: Node | str) -> bool:
    if isinstance(item, str):
        return bool(_MAGIC_WORD.match(item))
    if isinstance(item, Template):
        name = normalize_template_name(item.name)
        return name not in _RP | _DEAD_LINK | _SFN and name not in _TEXT_PARAM and name != "convert"
    if isinstance(item, Comment):
        return True
    if isinstance(item, Wikilink):
        title = str(item.title).strip()
        return _is_file_link(item) or _is_category_link(item) or bool(_INTERLANGUAGE.match(title))
    if isinstance(item, Tag):
        return str(item.tag).strip().lower() in _BLOCK_TAGS
    return False


def is_block_line(line: str) -> bool:
    """Whether import would keep ``line`` apart as a block (a template, file or category standing alone)."""
    items = [i for i in _parse(line).nodes if not (isinstance(i, Text) and not i.value.strip())]
    return bool(items) and all(_is_block(i.value if isinstance(i, Text) else i) for i in items)


def _lines(nodes: Iterable[Node]) -> Iterator[list[Node | str]]:
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


def unclosed_markup(text: str) -> int:
    """How many openers in ``text`` never close, weighted by what they cost mwparserfromhell.

    Templates and brackets are matched with a depth counter, left to right (a
    ``}}`` before any ``{{`` closes nothing, so ``}}}}{{a|{{a|`` counts two);
    a tag start with no ``>`` before the next ``<`` is one unclosed tag. One
    linear pass, no parsing.
    """
    templates = brackets = tags = 0
    for match in _OPENERS.finditer(text):
        piece = match.group()
        if piece == "{{":
            templates += 1
        elif piece == "}}":
            templates = max(0, templates - 1)
        elif piece == "[":
            brackets += 1
        elif piece == "]":
            brackets = max(0, brackets - 1)
        else:
            tags += 1
    return templates + tags + (brackets + _BRACKET_WEIGHT - 1) // _BRACKET_WEIGHT


def _check_budget(text: str, where: str) -> None:
    """Refuse, before parsing, a page whose unclosed markup would take mwparserfromhell too long."""
    unclosed = unclosed_markup(text)
    if unclosed * len(text) > MAX_UNCLOSED_WORK:
        raise BudgetExceeded(where, f"{unclosed:,} unclosed templates, tags or brackets in {len(text):,} "
                                    f"characters: over the wikitext parser's budget ({MAX_UNCLOSED_WORK:,} "
                                    "opener-characters); not imported")


@dataclass
class _Deadline:
    """The page's time budget, checked where the importer loops (sections, paragraphs)."""

    where: str
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        if time.monotonic() - self.start > self.seconds:
            raise BudgetExceeded(self.where, f"import took over {self.seconds:g} s (the per-page time budget)")


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
    (:data:`MAX_CHARS`, :data:`MAX_UNCLOSED_WORK`, ``time_budget`` seconds)
    raises :class:`~wikicore.errors.BudgetExceeded` naming it, so a dump import
    or a scan reports the page and goes on.
    """
    with paused_gc():
        return _import_wikitext(text, slug=slug, file_name=file_name, title=title, time_budget=time_budget)


def _import_wikitext(text: str, *, slug: str | None, file_name: str | None, title: str | None,
                     time_budget: float) -> Article:
    from ..models import slugify

    name = title or _title_from(file_name)
    where = file_name or name or "input"
    if len(text) > MAX_CHARS:
        raise BudgetExceeded(where, f"input is over {MAX_CHARS:,} characters")
    target = parse_redirect(text)
    if target is not None:
        raise ImportFailed(f"{where} is a redirect to {target}")
    if not name:
        raise ImportFailed(f"{where}: no title (give a file name or a title)")
    deadline = _Deadline(where, time_budget)
    warnings: list[str] = []
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    repaired = _repair(text, warnings)
    _check_budget(repaired, where)
    code = _parse(repaired)
    deadline.check()
    builder = _Builder(warnings, deadline=deadline)
    lead: list[dict[str, Any]] = []
    root: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    body: list[Node] = []
    current: tuple[dict[str, Any] | None, str | None, str] = (None, None, "")

    def close_body() -> None:
        deadline.check()
        section, section_id, heading = current
        paragraphs = builder.body(body, section_id, heading)
        if section is None:
            lead.extend(paragraphs)
        else:
            section["paragraphs"] = paragraphs
        body.clear()

    for node in code.nodes:
        if isinstance(node, Heading):
            close_body()
            heading = str(node.title).strip()
            section_id = builder.section_id(heading)
            section: dict[str, Any] = {"id": section_id, "heading": heading, "sections": []}
            while stack and stack[-1][0] >= node.level:
                stack.pop()
            (stack[-1][1]["sections"] if stack else root).append(section)
            stack.append((node.level, section))
            current = (section, section_id, _plain(node.title))
        else:
            body.append(node)
    close_body()

    uses: list[_Use] = []

    def collect(paragraphs: list[dict[str, Any]]) -> None:
        for para in paragraphs:
            for claim in para["claims"]:
                uses.extend(claim["citations"])

    def walk(sections: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for section in sections:
            yield section
            yield from walk(section["sections"])

    collect(lead)
    for section in walk(root):
        collect(section["paragraphs"])
    builder.scan_kept()
    references, contents = builder.references(uses)
    for para in lead + [p for s in walk(root) for p in s["paragraphs"]]:
        for claim in para["claims"]:
            claim["citations"] = [builder.citation(u, contents) for u in claim["citations"]]
    try:
        article_slug = slug or slugify(name)
    except ValueError as error:
        raise ImportFailed(f"{where}: {error}") from None
    data: dict[str, Any] = {
        "slug": article_slug,
        "title": name,
        "lead": lead,
        "sections": root,
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
