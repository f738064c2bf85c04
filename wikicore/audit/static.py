"""Static checks of an article: everything that can be judged without the network.

Each check is a small function ``(article, context) -> Iterator[Finding]``
registered in :data:`STATIC_CHECKS`; :func:`run_static_checks` runs them all in
order. A :class:`Finding` is a frozen record with a stable kebab-case ``code``
that scripts may rely on, a :class:`Severity`, a human message and the id of
the claim or reference it is about (neither for article-wide findings).

Severities follow one rule: **error** means the citation is broken or cannot
be right (a reader following it will fail); **warning** means a human should
look (it may be fine); **info** is worth knowing and never fails a build by
default.

==============================  ========  =====================================================
code                            severity  meaning
==============================  ========  =====================================================
claim-uncited                   warning   a claim (with words in it) no citation supports (its own,
                                          or one ending its paragraph), and every claim
                                          tagged ``citation_needed``
citation-missing-reference      error     a citation names a reference id the article lacks
                                          (only possible for unvalidated input)
reference-unused                warning   no claim cites the reference (often a lost citation)
reference-duplicate             warning   same url, ISBN or DOI (normalised) and the same
                                          pages/volume/issue as an earlier reference
isbn-invalid                    error     not an ISBN-10/13, or its check digit is wrong
issn-invalid                    error     not an ISSN, or its check digit is wrong
doi-invalid                     error     not ``10.<registrant>/<suffix>`` (DOI Handbook 2.2)
doi-unusual                     info      valid syntax, but matches none of Crossref's
                                          patterns: often copy-paste debris
date-invalid                    error     a date that is not a real (partial) ISO date
date-future                     error     a publication, access or archive date after today
date-impossible                 error     an access date before the web (1991-08-06), an archive
                                          date before the Wayback Machine (1996)
access-before-publication       warning   accessed before it was published
url-malformed                   error     no scheme, no host, spaces or a bad port
url-scheme-disallowed           error     a scheme other than http or https (``javascript:``,
                                          ``file:``, ``ftp:`` ...)
archive-url-malformed           error     archive_url is not a well-formed Wayback snapshot link
archive-url-other-service       info      archive_url is at another archive (archive.today, WebCite,
                                          Ghostarchive, Perma.cc): well-formedness not verified
archive-url-mismatch            warning   the snapshot's embedded original is not ``url``
archive-date-mismatch           warning   archive_date is over a day from the snapshot time
reference-unverifiable          warning   a web or news reference with no url, archive,
                                          DOI or ISBN: nobody can check it
link-marked-dead-no-archive     warning   the wiki marks the url dead (``url_status: dead``,
                                          ``{{dead link}}``) and no archive link replaces it
see-also-missing                warning   a "See also" title no article or alias of the
                                          wiki has (skipped when no titles are given)
source-warning                  info      a warning the importer recorded in ``source``
==============================  ========  =====================================================
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from stdnum import isbn as _isbn
from stdnum import issn as _issn
from stdnum.exceptions import InvalidChecksum, ValidationError

from ..errors import Problem
from ..models import Article, Reference, ReferenceType, UrlStatus
from ..urls import normalise_url, parse_archive_url, url_problem  # url_problem: the one URL rule, `validate` too

__all__ = [
    "CODES",
    "STATIC_CHECKS",
    "CheckContext",
    "Finding",
    "KnownTitles",
    "Severity",
    "date_range",
    "normalise_doi",
    "normalise_isbn",
    "normalise_title",
    "normalise_url",
    "run_static_checks",
    "url_problem",
    "url_problems",
]


class Severity(StrEnum):
    """How much a finding matters; ordered error > warning > info (see :attr:`rank`)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for info: for "at or above" comparisons."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem found in an article, about a claim, a reference or the article."""

    code: str
    severity: Severity
    message: str
    claim_id: str | None = None
    ref_id: str | None = None


class KnownTitles:
    """The titles and aliases of a wiki's articles, normalised once, for the see-also check.

    Build it once per audit and share it: normalising every title of the wiki
    for each article made a wiki-wide audit quadratic (measured: static checks
    of 8,000 articles took 63 s, 2.4 s without titles).
    """

    __slots__ = ("_keys",)

    def __init__(self, titles: Iterable[str] = ()) -> None:
        self._keys = frozenset(normalise_title(title) for title in titles)

    @classmethod
    def of(cls, titles: Iterable[str] | KnownTitles) -> KnownTitles:
        """``titles`` itself if already built, else the set built from them."""
        return titles if isinstance(titles, KnownTitles) else cls(titles)

    def __contains__(self, title: object) -> bool:
        return isinstance(title, str) and normalise_title(title) in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KnownTitles({len(self._keys)} titles)"


@dataclass(frozen=True)
class CheckContext:
    """What checks need beyond the article: today's date (injected, for tests) and known titles.

    ``known_titles`` holds the titles and aliases of the wiki's articles; None
    means "unknown" and skips the see-also check rather than flagging everything.
    """

    today: _dt.date = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).date())
    known_titles: KnownTitles | None = None
    #: A Wayback-compatible root whose ``/web/`` links count as snapshots too
    #: (``--wayback-url``: a local mirror, or the test and demo servers), or
    #: several (``--archive``: every archive the audit asks).
    archive_base: str | tuple[str, ...] | None = None


Check = Callable[[Article, CheckContext], Iterator[Finding]]

#: Every code a check (static or live) can emit, with its severity; the audit adds
#: the live codes in :mod:`wikicore.audit`.
CODES: dict[str, Severity] = {
    "claim-uncited": Severity.WARNING,
    "citation-missing-reference": Severity.ERROR,
    "reference-unused": Severity.WARNING,
    "reference-duplicate": Severity.WARNING,
    "isbn-invalid": Severity.ERROR,
    "issn-invalid": Severity.ERROR,
    "doi-invalid": Severity.ERROR,
    "doi-unusual": Severity.INFO,
    "date-invalid": Severity.ERROR,
    "date-future": Severity.ERROR,
    "date-impossible": Severity.ERROR,
    "access-before-publication": Severity.WARNING,
    "url-malformed": Severity.ERROR,
    "url-scheme-disallowed": Severity.ERROR,
    "archive-url-malformed": Severity.ERROR,
    "archive-url-other-service": Severity.INFO,
    "archive-url-mismatch": Severity.WARNING,
    "archive-date-mismatch": Severity.WARNING,
    "reference-unverifiable": Severity.WARNING,
    "link-marked-dead-no-archive": Severity.WARNING,
    "see-also-missing": Severity.WARNING,
    "source-warning": Severity.INFO,
}


def _finding(code: str, message: str, *, claim_id: str | None = None, ref_id: str | None = None) -> Finding:
    return Finding(code, CODES[code], message, claim_id=claim_id, ref_id=ref_id)


# --- normalisation helpers -----------------------------------------------------


def normalise_isbn(value: str) -> str:
    """The ISBN-13 form of a valid ISBN (so ISBN-10 and -13 of one book agree), else its compact form."""
    text = _strip_isbn_label(value)
    try:
        return str(_isbn.to_isbn13(_isbn.validate(text)))
    except ValidationError:
        return str(_isbn.compact(text))


def _strip_isbn_label(value: str) -> str:
    # Imports often keep the label: "ISBN 978-...", "ISBN-10: 0-...".
    return re.sub(r"^\s*ISBN(?:-1[03])?:?\s*", "", value, flags=re.IGNORECASE)


_DOI_PREFIX = re.compile(r"^\s*(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)


def normalise_doi(value: str) -> str:
    """A DOI without ``doi:`` or resolver prefix, lower-cased: DOIs are case-insensitive (Handbook 2.4)."""
    return _DOI_PREFIX.sub("", value).strip().lower()


def normalise_title(title: str) -> str:
    """Titles compare like MediaWiki's: NFC, case-folded, ``_`` as space, runs of space collapsed."""
    text = unicodedata.normalize("NFC", title).replace("_", " ")
    return " ".join(text.split()).casefold()


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_range(value: str) -> tuple[_dt.date, _dt.date] | None:
    """The first and last day a partial ISO date (``1995``, ``1995-06``, ``1995-06-30``) can mean.

    None when it is not a real date: the model refuses those, but audits also
    see unvalidated input.
    """
    match = _DATE_RE.match(value.strip())
    if not match:
        return None
    year_s, month_s, day_s = match.groups()
    try:
        year = int(year_s)
        if month_s is None:
            return _dt.date(year, 1, 1), _dt.date(year, 12, 31)
        month = int(month_s)
        first = _dt.date(year, month, 1)
        if day_s is None:
            following = _dt.date(year + (month == 12), month % 12 + 1, 1)
            return first, following - _dt.timedelta(days=1)
        day = _dt.date(year, month, int(day_s))
        return day, day
    except ValueError:
        return None


# --- the checks ----------------------------------------------------------------


def check_uncited_claims(article: Article, context: CheckContext) -> Iterator[Finding]:
    """Claims no citation supports: neither their own nor one ending their paragraph.

    A citation that ends a paragraph covers the sentences before it (Wikipedia's
    convention; :meth:`~wikicore.models.Paragraph.support`): counting only
    per-claim citations flagged 71% of the claims of real articles. A claim
    tagged ``citation_needed`` is always reported, even when it cites
    something: an editor read the sources and said they do not hold it up
    (a tag after a ref in one sentence marks the part the ref does not
    cover). Claims without a letter or digit (stray punctuation) are not statements.
    """
    for claim, support in article.iter_support():
        if claim.citation_needed or (not support and any(ch.isalnum() for ch in claim.text)):
            excerpt = claim.text.strip()
            excerpt = excerpt if len(excerpt) <= 80 else excerpt[:77] + "..."
            what = "is tagged as needing a citation" if claim.citation_needed else "cites no reference"
            yield _finding("claim-uncited", f"claim {what}: {excerpt!r}", claim_id=claim.id)


def check_missing_references(article: Article, context: CheckContext) -> Iterator[Finding]:
    """Citations naming no reference; the model refuses these, so this guards unvalidated input."""
    known = {ref.id for ref in article.references}
    for claim in article.claims():
        for citation in claim.citations:
            if citation.ref not in known:
                yield _finding(
                    "citation-missing-reference",
                    f"cites reference {citation.ref!r}, which the article does not have",
                    claim_id=claim.id,
                )


def check_unused_references(article: Article, context: CheckContext) -> Iterator[Finding]:
    """References no claim cites: usually a citation lost in an edit, or dead weight."""
    cited = article.cited_reference_ids()
    for ref in article.references:
        if ref.id not in cited:
            yield _finding("reference-unused", "no claim cites this reference", ref_id=ref.id)


def _identity_keys(ref: Reference) -> Iterator[tuple[str, str]]:
    if ref.url and url_problem(ref.url) is None:
        yield "url", normalise_url(ref.url)
    if ref.isbn:
        yield "ISBN", normalise_isbn(ref.isbn)
    if ref.doi:
        yield "DOI", normalise_doi(ref.doi)


def check_duplicate_references(article: Article, context: CheckContext) -> Iterator[Finding]:
    """References naming the same work at the same place.

    Two references to one book with different ``pages`` are a normal way to
    cite it, so pages, volume and issue are part of the key.
    """
    first: dict[tuple[str, str, str | None, str | None, str | None], str] = {}
    for ref in article.references:
        for kind, key in _identity_keys(ref):
            full = (kind, key, ref.pages, ref.volume, ref.issue)
            if full in first:
                yield _finding("reference-duplicate", f"same {kind} as reference {first[full]!r}", ref_id=ref.id)
                break
            first[full] = ref.id


def check_identifiers(article: Article, context: CheckContext) -> Iterator[Finding]:
    """ISBN, ISSN and DOI syntax and check digits (python-stdnum for ISBN/ISSN)."""
    for ref in article.references:
        if ref.isbn:
            yield from _check_isbn(ref)
        if ref.issn:
            try:
                _issn.validate(ref.issn)
            except InvalidChecksum:
                yield _finding("issn-invalid", f"ISSN {ref.issn!r} has a wrong check digit", ref_id=ref.id)
            except ValidationError:
                yield _finding("issn-invalid", f"{ref.issn!r} is not an ISSN (NNNN-NNNC)", ref_id=ref.id)
        if ref.doi:
            yield from _check_doi(ref.id, ref.doi)


def _check_isbn(ref: Reference) -> Iterator[Finding]:
    assert ref.isbn is not None
    try:
        _isbn.validate(_strip_isbn_label(ref.isbn))
    except InvalidChecksum:
        yield _finding("isbn-invalid", f"ISBN {ref.isbn!r} has a wrong check digit", ref_id=ref.id)
    except ValidationError:
        yield _finding("isbn-invalid", f"{ref.isbn!r} is not an ISBN-10 or ISBN-13", ref_id=ref.id)


# DOI Handbook 2.2: "10." + a registrant code of digits and dots, "/", then a
# suffix of any printable characters. Failing this is an error.
_DOI_SYNTAX = re.compile(r"^10\.\d+(?:\.\d+)*/\S+$")

# Crossref, "DOIs and matching regular expressions" (2015): these five patterns
# match 99.3% of the DOIs it had registered; the first alone 74.4M of 74.9M.
# (Their dots are escaped here, and SICI parentheses made literal.)
_CROSSREF_DOI = [
    re.compile(r"^10\.\d{4,9}/[-._;()/:A-Z0-9]+$", re.IGNORECASE),
    re.compile(r"^10\.1002/\S+$", re.IGNORECASE),  # early Wiley
    re.compile(r"^10\.\d{4}/\d+-\d+X?\(\d+\)\d+<[\w]+:[\w]*>\d+\.\d+\.\w+;\d$", re.IGNORECASE),  # SICI
    re.compile(r"^10\.1021/\w\w\d+$", re.IGNORECASE),  # ACS
    re.compile(r"^10\.1207/[\w]+&\d+_\d+$", re.IGNORECASE),  # Taylor & Francis
]


def _check_doi(ref_id: str, doi: str) -> Iterator[Finding]:
    bare = _DOI_PREFIX.sub("", doi).strip()
    if not _DOI_SYNTAX.match(bare):
        yield _finding("doi-invalid", f"{doi!r} is not a DOI (10.<registrant>/<suffix>)", ref_id=ref_id)
    elif not any(pattern.match(bare) for pattern in _CROSSREF_DOI):
        yield _finding(
            "doi-unusual",
            f"DOI {doi!r} has characters DOIs rarely have; check for pasted punctuation",
            ref_id=ref_id,
        )


#: Days before which a date of that kind cannot be: CS1's access-date is the day a
#: url was read, and archive-date the day of a web archive capture.
_EARLIEST = {
    "access_date": (_dt.date(1991, 8, 6), "before the first web page went online (1991-08-06)"),
    "archive_date": (_dt.date(1996, 1, 1), "before the Wayback Machine's first captures (1996)"),
}


def check_dates(article: Article, context: CheckContext) -> Iterator[Finding]:
    """Dates that are not real or cannot be, lie in the future, or an access that precedes publication.

    A partial date is in the future only if its *first* day is after today
    (``2026`` is fine all through 2026); access precedes publication only if
    the access's last possible day is before the publication's first.
    """
    for ref in article.references:
        ranges: dict[str, tuple[_dt.date, _dt.date]] = {}
        for name in ("date", "access_date", "archive_date"):
            value: str | None = getattr(ref, name)
            if value is None:
                continue
            span = date_range(value)
            label = name.replace("_", " ")
            if span is None:
                yield _finding("date-invalid", f"{label} {value!r} is not a real date", ref_id=ref.id)
                continue
            ranges[name] = span
            if span[0] > context.today:
                yield _finding("date-future", f"{label} {value} is after today ({context.today})", ref_id=ref.id)
            elif name in _EARLIEST and span[1] < _EARLIEST[name][0]:
                yield _finding("date-impossible", f"{label} {value} is {_EARLIEST[name][1]}", ref_id=ref.id)
        if "date" in ranges and "access_date" in ranges and ranges["access_date"][1] < ranges["date"][0]:
            yield _finding(
                "access-before-publication",
                f"accessed {ref.access_date}, before it was published ({ref.date})",
                ref_id=ref.id,
            )


def check_reference_urls(article: Article, context: CheckContext) -> Iterator[Finding]:
    """Reference urls that are not http(s) web addresses: no checker may follow them."""
    for ref in article.references:
        if ref.url:
            problem = url_problem(ref.url)
            if problem:
                yield _finding(problem[0], problem[1], ref_id=ref.id)


def check_archive_urls(article: Article, context: CheckContext) -> Iterator[Finding]:
    """archive_url must be a Wayback snapshot of ``url``, taken on ``archive_date``.

    The embedded original is compared with :func:`normalise_url`, so
    ``http://www.x.org/a/`` and ``https://x.org/a`` agree. The date may be a
    day off (editors write local dates; Wayback timestamps are UTC).
    """
    for ref in article.references:
        if not ref.archive_url:
            continue
        bases = (
            context.archive_base
            if isinstance(context.archive_base, tuple) and context.archive_base
            else (context.archive_base if isinstance(context.archive_base, str) else None,)
        )
        parsed = (
            next(
                (found for base in bases if (found := parse_archive_url(ref.archive_url, base_url=base))),
                None,
            )
            if url_problem(ref.archive_url) is None
            else None
        )
        if parsed is None and url_problem(ref.archive_url) is None and _other_archive(ref.archive_url):
            yield _finding(
                "archive-url-other-service",
                f"archive url {ref.archive_url!r} is not at the Wayback Machine; it was not verified",
                ref_id=ref.id,
            )
            continue
        if parsed is None:
            yield _finding(
                "archive-url-malformed",
                f"archive url {ref.archive_url!r} is not a Wayback snapshot link (…/web/<timestamp>/<url>)",
                ref_id=ref.id,
            )
            continue
        taken, original = parsed
        if ref.url and url_problem(ref.url) is None and normalise_url(original) != normalise_url(ref.url):
            yield _finding(
                "archive-url-mismatch",
                f"archive url is a snapshot of {original!r}, not of the reference url {ref.url!r}",
                ref_id=ref.id,
            )
        span = date_range(ref.archive_date) if ref.archive_date else None
        if span is not None:
            day = taken.date()
            slack = _dt.timedelta(days=1)
            if not span[0] - slack <= day <= span[1] + slack:
                yield _finding(
                    "archive-date-mismatch",
                    f"archive date {ref.archive_date} but the snapshot was taken {day.isoformat()}",
                    ref_id=ref.id,
                )


#: Archives other than the Wayback Machine that Wikipedia's CS1 accepts; their
#: links cannot be parsed as Wayback snapshots, and that is not an error.
OTHER_ARCHIVES = frozenset(
    {
        "archive.today",
        "archive.ph",
        "archive.is",
        "archive.li",
        "archive.vn",
        "archive.fo",
        "archive.md",
        "webcitation.org",
        "ghostarchive.org",
        "perma.cc",
        "webarchive.org.uk",
        "webarchive.nla.gov.au",
        "arquivo.pt",
    }
)


def _other_archive(url: str) -> bool:
    host = (urlsplit(url.strip()).hostname or "").removeprefix("www.")
    return any(host == known or host.endswith("." + known) for known in OTHER_ARCHIVES)


def check_unverifiable(article: Article, context: CheckContext) -> Iterator[Finding]:
    """Web and news references with nothing to follow: no url, archive, DOI or ISBN.

    An ISSN names a periodical, not an article in it, so it does not count.
    """
    for ref in article.references:
        if ref.type in (ReferenceType.WEB, ReferenceType.NEWS) and not (
            ref.url or ref.archive_url or ref.doi or ref.isbn
        ):
            yield _finding(
                "reference-unverifiable",
                f"{ref.type.value} reference has no url, archive url, DOI or ISBN: nobody can check it",
                ref_id=ref.id,
            )


def check_marked_dead(article: Article, context: CheckContext) -> Iterator[Finding]:
    """References the wiki already calls dead with no archive link: readers have nothing to follow.

    Finding archives for exactly these is InternetArchiveBot's main job, and
    the mark is in the article, so this needs no network (``wikicore archive``
    rescues them first).
    """
    for ref in article.references:
        if ref.url_status == UrlStatus.DEAD and ref.url and not ref.archive_url:
            yield _finding(
                "link-marked-dead-no-archive",
                f"url {ref.url!r} is marked dead and has no archive link",
                ref_id=ref.id,
            )


def check_see_also(article: Article, context: CheckContext) -> Iterator[Finding]:
    """See-also titles that name no article (by title or alias); skipped without known titles."""
    if context.known_titles is None:
        return
    known = context.known_titles
    own = {normalise_title(t) for t in (article.title, *article.aliases)}
    for title in article.see_also:
        if title not in known and normalise_title(title) not in own:
            yield _finding("see-also-missing", f"see also {title!r}: no such article in the wiki")


def check_source_warnings(article: Article, context: CheckContext) -> Iterator[Finding]:
    """What the importer could not determine, repeated where reviewers look."""
    for warning in article.source.warnings if article.source else []:
        yield _finding("source-warning", f"import: {warning}")


#: The static checks, in the order their findings are reported.
STATIC_CHECKS: tuple[Check, ...] = (
    check_uncited_claims,
    check_missing_references,
    check_unused_references,
    check_duplicate_references,
    check_identifiers,
    check_dates,
    check_reference_urls,
    check_archive_urls,
    check_unverifiable,
    check_marked_dead,
    check_see_also,
    check_source_warnings,
)


def run_static_checks(
    article: Article,
    *,
    today: _dt.date | None = None,
    known_titles: Iterable[str] | KnownTitles | None = None,
    archive_base: str | tuple[str, ...] | None = None,
) -> list[Finding]:
    """Every static finding for ``article``, in check order; no I/O at all.

    ``known_titles`` enables the see-also check; pass a :class:`KnownTitles`
    built once when checking many articles of one wiki.
    """
    context = CheckContext(
        today=today or _dt.datetime.now(_dt.UTC).date(),
        known_titles=None if known_titles is None else KnownTitles.of(known_titles),
        archive_base=archive_base,
    )
    return [finding for check in STATIC_CHECKS for finding in check(article, context)]


def url_problems(article: Article) -> list[Problem]:
    """Reference urls the audit calls malformed or disallowed, as problems ``wikicore validate`` refuses.

    The same :func:`~wikicore.urls.url_problem` rule as :func:`check_reference_urls`
    (and the archive check), so a file that validates never has an audit error
    about the shape of its urls (such as a scheme-less ``url: 127.0.0.1:8999/missing``).
    """
    problems: list[Problem] = []
    for index, ref in enumerate(article.references):
        for name in ("url", "archive_url"):
            value = getattr(ref, name)
            found = url_problem(value) if value else None
            if found is not None:
                problems.append(Problem(found[1], path=f"references[{index}].{name}"))
    return problems
