"""Reading a reference's wikitext: the CS1 citation template in it, or its first link.

Both directions read references the same way: import fills a reference's
fields from its ``raw`` wikitext, and export reads ``raw`` again to tell
whether the fields still say what it says (then ``raw`` is written back byte
for byte). The CS1 rules followed are en.wikipedia.org's Help:Citation_Style_1;
the names they use are tables in :mod:`.vocabulary`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mwparserfromhell.nodes import Template
from mwparserfromhell.wikicode import Wikicode

from ..models import ReferenceType, UrlStatus
from .markup import https, normalize_template_name, parse, plain
from .vocabulary import CS1_FIELD_PARAMS, CS1_TYPES, DEAD_LINK, LANGUAGES, MONTHS

__all__ = ["RefContent", "is_cs1", "parse_date", "parse_ref_content", "sfn_key"]


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


def parse_date(value: str) -> str | None:
    """A CS1 date (``30 December 2013``, ``December 30, 2013``, ``2013-12``, ``2005a``) as ISO, or None."""
    text = " ".join(value.replace("\u00a0", " ").split()).strip(" .")
    if not text:
        return None
    year = month = day = None
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?[a-z]?", text):
        year, month, day = int(m[1]), m[2] and int(m[2]), m[3] and int(m[3])
    elif m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+)\.?,? (\d{4})", text):
        day, month, year = int(m[1]), MONTHS.get(m[2].lower()), int(m[3])
        if month is None:
            return None
    elif m := re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})", text):
        month, day, year = MONTHS.get(m[1].lower()), int(m[2]), int(m[3])
        if month is None:
            return None
    elif m := re.fullmatch(r"([A-Za-z]+)\.?,? (\d{4})", text):
        month, year = MONTHS.get(m[1].lower()), int(m[2])
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


def _language(value: str) -> str | None:
    text = value.strip()
    code = LANGUAGES.get(text.lower(), text)
    return code if re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", code) else None


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
        last_text = plain(last)
        authors.append(f"{last_text}, {plain(first)}" if first else last_text)
    if not authors:
        if value := _param(params, "vauthors"):
            authors = [a.strip() for a in plain(value).split(",") if a.strip()]
        elif value := _param(params, "authors", "people"):
            authors = [plain(value)]
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


def is_cs1(name: str) -> bool:
    """Whether the template named ``name`` (normalised) is a full citation: CS1, ``{{citation}}`` or ``cite ...``."""
    return name in CS1_TYPES or name == "citation" or name.startswith("cite ")


def _dated(params: dict[str, str], names: tuple[str, ...], what: str, warnings: list[str]) -> str | None:
    """The first of ``names`` as an ISO date; a date that does not read is a warning (``raw`` keeps it)."""
    value = _param(params, *names)
    if not value:
        return None
    date = parse_date(plain(value))
    if date is None:
        warnings.append(f"could not read the {what} {plain(value)!r} (kept in raw)")
    return date


def _url_status(params: dict[str, str]) -> UrlStatus | None:
    """``url-status``, or the older ``deadurl=yes|no`` it replaced."""
    status = _param(params, "url-status")
    if status and status.strip().lower() in {s.value for s in UrlStatus}:
        return UrlStatus(status.strip().lower())
    if dead := _param(params, "deadurl", "dead-url"):
        if dead.strip().lower() in {"yes", "true", "y"}:
            return UrlStatus.DEAD
        if dead.strip().lower() in {"no", "false", "n"}:
            return UrlStatus.LIVE
    return None


def _cs1_fields(template: Template, warnings: list[str]) -> tuple[dict[str, Any], str | None, str | None]:
    name = normalize_template_name(template.name)
    params = _params_of(template)
    fields: dict[str, Any] = {"type": _type_of(name, params)}
    if title := _param(params, "title", "script-title", "trans-title"):
        fields["title"] = plain(title)
    if authors := _authors(params):
        fields["authors"] = authors
    if date := _dated(params, ("date", "year"), "date", warnings):
        fields["date"] = date
    for key, names in CS1_FIELD_PARAMS.items():
        if value := _param(params, *names):
            fields[key] = plain(value)
    if url := _param(params, "url", "URL", "chapter-url", "chapterurl"):
        fields["url"] = https(url)
    if value := _param(params, "archive-url", "archiveurl"):
        fields["archive_url"] = https(value)
    for key, names in (("access_date", ("access-date", "accessdate")),
                       ("archive_date", ("archive-date", "archivedate"))):
        if date := _dated(params, names, names[0], warnings):
            fields[key] = date
    if value := _param(params, "language", "lang"):
        if code := _language(plain(value)):
            fields["language"] = code
    if status := _url_status(params):
        fields["url_status"] = status
    locator = _param(params, "page", "pages", "at", "p", "pp")
    quote = _param(params, "quote")
    return fields, plain(locator) if locator else None, plain(quote) if quote else None


def parse_ref_content(raw: str, parsed: Wikicode | None = None) -> RefContent:
    """Read a ref's inner wikitext: the first CS1 template's fields, else a free-text reference.

    A ref that holds no CS1 template is ``type: other``; its first external link
    still gives ``url`` (and ``title`` from the link's label) so audits can check it.
    ``{{dead link}}`` anywhere in the ref sets ``url_status: dead``.
    """
    warnings: list[str] = []
    code = parsed if parsed is not None else parse(raw)  # the caller may hand in what it already parsed
    templates = code.filter_templates(recursive=False)
    cs1 = next((t for t in templates if is_cs1(normalize_template_name(t.name))), None)
    locator = quote = None
    if cs1 is not None:
        fields, locator, quote = _cs1_fields(cs1, warnings)
    else:
        fields = {"type": ReferenceType.OTHER}
        link = next(iter(code.filter_external_links()), None)
        if link is not None:
            fields["url"] = https(str(link.url).strip())
            if link.title is not None and plain(link.title):
                fields["title"] = plain(link.title)
    if any(normalize_template_name(t.name) in DEAD_LINK for t in templates):
        fields["url_status"] = UrlStatus.DEAD
    return RefContent(fields=fields, locator=locator, quote=quote, warnings=tuple(warnings))


def sfn_key(authors: Sequence[str], date: str | None) -> tuple[tuple[str, ...], str] | None:
    """How ``{{sfn}}`` finds a full reference: up to four author surnames (case-folded) and the year."""
    if not authors or not date:
        return None
    surnames = tuple(a.split(",")[0].strip().casefold() for a in authors[:4])
    return surnames, date[:4]
