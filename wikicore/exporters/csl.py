"""References as CSL-JSON, the format Zotero, Pandoc and citeproc read.

One CSL item per reference, in the article's order, with the reference id as
the item id so a document citing ``[@r-smith]`` finds it. Authors written
``Family, Given`` (how the wikitext importer stores ``last``/``first``) become
``{"family", "given"}``; any other name is kept whole as ``literal`` rather
than guessed apart. See https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html
"""

from __future__ import annotations

import json
from typing import Any

from ..models import Article, Reference, ReferenceType
from . import register

__all__ = ["CSL_TYPES", "csl_item", "export_csl"]

#: CSL item type for each reference type.
CSL_TYPES: dict[ReferenceType, str] = {
    ReferenceType.BOOK: "book",
    ReferenceType.JOURNAL: "article-journal",
    ReferenceType.NEWS: "article-newspaper",
    ReferenceType.WEB: "webpage",
    ReferenceType.VIDEO: "motion_picture",
    ReferenceType.OTHER: "document",
}


def _name(author: str) -> dict[str, str]:
    family, comma, given = author.partition(",")
    if comma and family.strip() and given.strip() and "," not in given:
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": author}


def _date(value: str) -> dict[str, list[list[int]]]:
    return {"date-parts": [[int(part) for part in value.split("-")]]}


def csl_item(ref: Reference) -> dict[str, Any]:
    """One reference as a CSL-JSON item (fields left out when unknown)."""
    item: dict[str, Any] = {"id": ref.id, "type": CSL_TYPES[ref.type]}
    if ref.title:
        item["title"] = ref.title
    elif ref.raw and ref.type is ReferenceType.OTHER:
        item["title"] = ref.raw.strip()  # free text: the reader's only description of the source
    if ref.authors:
        item["author"] = [_name(a) for a in ref.authors]
    if ref.date:
        item["issued"] = _date(ref.date)
    if ref.access_date:
        item["accessed"] = _date(ref.access_date)
    for key, value in (
        ("container-title", ref.work),
        ("publisher", ref.publisher),
        ("URL", ref.url),
        ("ISBN", ref.isbn),
        ("DOI", ref.doi),
        ("ISSN", ref.issn),
        ("volume", ref.volume),
        ("issue", ref.issue),
        ("page", ref.pages),
        ("language", ref.language),
    ):
        if value:
            item[key] = value
    if ref.archive_url:
        item["archive_location"] = ref.archive_url
    return item


@register("csl-json")
def export_csl(article: Article) -> str:
    """The article's references as a CSL-JSON array (UTF-8, two-space indent, newline at the end)."""
    return json.dumps([csl_item(r) for r in article.references], ensure_ascii=False, indent=2) + "\n"
