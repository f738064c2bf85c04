"""The words of wikitext the importer and exporter recognise, as data, each table with its source.

Kept apart from the code that uses them (as mwparserfromhell keeps its
``definitions.py``) so that teaching the importer a new template redirect, a
CS1 parameter alias or another wiki's namespace name is a one-line change
here, checked against the page cited above the table. The pages are English
Wikipedia's template documentation and mediawiki.org's help pages; names are
stored lower-case, spaces not underscores, as
:func:`wikicore.mediawiki.markup.normalize_template_name` compares them.
"""

from __future__ import annotations

import re

from ..models import ReferenceType

__all__ = [
    "BLOCK_TAGS",
    "CATEGORY_PREFIXES",
    "CS1_FIELD_PARAMS",
    "CS1_TEMPLATE_FOR",
    "CS1_TYPES",
    "DEAD_LINK",
    "EXTERNAL_LINKS_HEADINGS",
    "FILE_PREFIXES",
    "IMAGE_OPTION",
    "INTERLANGUAGE",
    "LANGUAGES",
    "LIST_MARKUP",
    "MAGIC_WORD",
    "MONTHS",
    "REDIRECT",
    "RP",
    "SEE_ALSO_HEADING",
    "SFN",
    "TEXT_PARAM",
    "VERBATIM_TAGS",
]

# --- citations ----------------------------------------------------------------------

#: CS1 template names (normalised) and the reference type each one means.
#: Source: en.wikipedia.org Help:Citation_Style_1 ("Templates", the list of CS1 templates) and the
#: ``citation_class`` of each in Module:Citation/CS1/Configuration; ``{{citation}}`` (CS2) and any
#: other ``cite ...`` are typed from their periodical parameters instead.
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

#: The other way, for export: the template written for a reference type, and its periodical parameter.
#: Source: Help:Citation_Style_1 (``website`` for cite web, ``newspaper`` for cite news, ``journal`` for
#: cite journal; ``work`` is the alias every CS1 template accepts).
CS1_TEMPLATE_FOR: dict[ReferenceType, tuple[str, str]] = {
    ReferenceType.WEB: ("cite web", "website"),
    ReferenceType.NEWS: ("cite news", "newspaper"),
    ReferenceType.JOURNAL: ("cite journal", "journal"),
    ReferenceType.BOOK: ("cite book", "work"),
    ReferenceType.VIDEO: ("cite AV media", "work"),
    ReferenceType.OTHER: ("citation", "work"),
}

#: Reference fields read as they are written, and the CS1 parameters (aliases and older spellings,
#: first found wins) that hold each. Source: the parameter whitelist of Module:Citation/CS1/Whitelist
#: and Help:Citation_Style_1 ("Work and publisher", "Identifiers").
CS1_FIELD_PARAMS: dict[str, tuple[str, ...]] = {
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

#: Templates that give the page (and quote) of the ref right before them instead of saying anything.
#: Source: Template:Rp (``{{rp|page}}``, ``{{rp|page=|quote=}}``) and Template:Page_needed.
RP = frozenset({"rp", "page needed"})
#: Templates that mark the ref right before them dead. Source: Template:Dead_link and the redirects
#: to it (Special:WhatLinksHere/Template:Dead_link, "redirect" filter).
DEAD_LINK = frozenset({"dead link", "deadlink", "dead", "dl", "404", "broken link", "link broken"})
#: Inline tags saying the sentence before them needs a source. Source: Template:Citation_needed and
#: the redirects to it (Special:WhatLinksHere/Template:Citation_needed, "redirect" filter).
CITATION_NEEDED = frozenset({
    "citation needed", "cn", "fact", "citation-needed", "citationneeded", "cite needed", "cite-needed",
    "citeneeded", "needcite", "need citation", "needs citation", "ref needed", "refneeded",
    "reference needed", "source needed", "sourceneeded", "citation required", "proveit", "facts",
})
#: Short citations pointing at a full reference by author surnames and year.
#: Source: Template:Sfn, Template:Sfnp and Template:Sfnm (Template:Harvard_citation_documentation).
SFN = frozenset({"sfn", "sfnp", "sfnm"})

#: Month names and the abbreviations CS1 accepts in dates, to month numbers.
#: Source: Help:Citation_Style_1#Dates and MOS:DATEFORMAT (full names, three-letter abbreviations, ``Sept``).
MONTHS: dict[str, int] = {name: index for index, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}

#: Language names written in ``|language=`` and their ISO 639-1 codes (a code is taken as it is).
#: Source: ISO 639-1 (www.loc.gov/standards/iso639-2/php/code_list.php); CS1 accepts either form
#: (Help:Citation_Style_1, ``|language=``). A selection: a name not listed, and not a code, is left out.
LANGUAGES: dict[str, str] = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "japanese": "ja",
    "russian": "ru", "chinese": "zh", "portuguese": "pt", "dutch": "nl", "polish": "pl", "swedish": "sv",
    "korean": "ko", "arabic": "ar", "turkish": "tr", "azerbaijani": "az", "ukrainian": "uk",
    "norwegian": "no", "danish": "da", "finnish": "fi", "czech": "cs", "hungarian": "hu",
    "greek": "el", "hebrew": "he", "persian": "fa", "hindi": "hi", "afrikaans": "af",
}

# --- prose ---------------------------------------------------------------------------

#: Templates whose visible text is one of their parameters (the others render as nothing we keep),
#: with that parameter. Source: each template's documentation on en.wikipedia.org: Template:Lang
#: (text is 2), Template:Nowrap, Template:Nobr, Template:Small, Template:Abbr, Template:Lang-en,
#: Template:Noitalic, Template:Transl (2), Template:Nihongo, Template:Interlanguage_link (alias ill),
#: Template:Visible_anchor.
TEXT_PARAM: dict[str, str] = {
    "lang": "2", "nowrap": "1", "nobr": "1", "small": "1", "abbr": "1", "lang-en": "1", "noitalic": "1",
    "transl": "2", "nihongo": "1", "ill": "1", "interlanguage link": "1", "visible anchor": "1",
}

#: Tags whose content a reader sees exactly as written (no link or template inside is expanded).
#: Source: mediawiki.org Help:Formatting (``<nowiki>``, ``<pre>``), Help:HTML_in_wikitext (``<code>``),
#: Extension:Math (``<math>``, ``<chem>``) and Extension:SyntaxHighlight (``<syntaxhighlight>``, and
#: ``<source>``, its older name).
VERBATIM_TAGS = frozenset({"nowiki", "pre", "code", "math", "syntaxhighlight", "source", "chem"})

#: Bullet, numbered, indent and definition markup that starts a list line. Source: mediawiki.org Help:Lists.
LIST_MARKUP = frozenset("*#:;")

# --- blocks kept verbatim --------------------------------------------------------------

#: Tags that stand alone as a block, not prose. Source: en.wikipedia.org Special:Version ("Parser
#: extension tags": references, gallery, imagemap, templatestyles, mapframe, timeline, graph, score),
#: mediawiki.org Help:Transclusion (noinclude, includeonly, onlyinclude) and Help:HTML_in_wikitext
#: (the block elements div, center, hr, table).
BLOCK_TAGS = frozenset({"references", "gallery", "div", "center", "imagemap", "templatestyles", "mapframe",
                        "timeline", "graph", "score", "hr", "noinclude", "includeonly", "onlyinclude", "table"})
#: Names of the File namespace (6), lower-case, in the languages of the fixtures. Source: mediawiki.org
#: Manual:Namespace ("Image" is the File namespace's canonical alias since MediaWiki 1.14) and the
#: ``namespaceNames`` of languages/messages/MessagesDe.php, MessagesFr.php and MessagesJa.php.
FILE_PREFIXES = ("file:", "image:", "datei:", "fichier:", "ファイル:", "画像:")
#: Names of the Category namespace (14), from the same sources as :data:`FILE_PREFIXES`.
CATEGORY_PREFIXES = ("category:", "kategorie:", "catégorie:", "カテゴリ:")
#: A behaviour switch alone on its line (``__NOTOC__``). Source: mediawiki.org Help:Magic_words#Behavior_switches.
MAGIC_WORD = re.compile(r"^\s*__[A-Z]+__\s*$")
#: An interlanguage link's prefix: a language code as Wikimedia wikis use them (ISO 639 plus subtags:
#: ``zh-min-nan:``, ``be-tarask:``). Source: mediawiki.org Help:Interlanguage_links.
INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})*:")
#: A file link's option (anything else among its ``|`` parts is the caption). Source: mediawiki.org
#: Help:Images#Syntax: type, border, location, alignment, size, and the link/alt/class/page/lang/upright
#: parameters.
IMAGE_OPTION = re.compile(
    r"^\s*(?:thumb|thumbnail|frame|framed|frameless|border|left|right|center|centre|none|upright(?:\s*=?\s*[\d.]+)?"
    r"|baseline|middle|sub|super|top|text-top|bottom|text-bottom|\d*x?\d+\s*px|(?:alt|link|class|page|lang|upright)\s*=.*)\s*$",
    re.IGNORECASE | re.DOTALL,
)
#: A redirect page: the magic word at the very start, an optional colon, one link.
#: Source: mediawiki.org Help:Redirects ("#REDIRECT [[Target]]", case-insensitive).
REDIRECT = re.compile(r"^\s*#REDIRECT\s*:?\s*\[\[([^\[\]|#]*)(#[^\[\]|]*)?(?:\|[^\[\]]*)?\]\]", re.IGNORECASE)

#: Headings of the sections whose bullets are kept as ``see_also`` and ``external_links`` rather than
#: prose. Source: en.wikipedia.org MOS:LAYOUT ("See also", "External links" appendices).
SEE_ALSO_HEADING = "see also"
EXTERNAL_LINKS_HEADINGS = frozenset({"external links", "external link"})
