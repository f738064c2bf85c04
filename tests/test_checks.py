"""Each static check, with an example it must flag and one it must leave alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wikicore.audit.static import (
    CODES,
    STATIC_CHECKS,
    Finding,
    Severity,
    date_range,
    normalise_doi,
    normalise_isbn,
    normalise_url,
    run_static_checks,
)
from wikicore.models import Article, Citation, Claim, Paragraph
from wikicore.serialize import load_path

from .conftest import SEED_ARTICLE

TODAY = dt.date(2026, 11, 26)


def article(*refs: dict[str, Any], cite: bool = True, **fields: Any) -> Article:
    """An article whose one claim cites every reference given (unless ``cite=False``)."""
    citations = [{"ref": r["id"]} for r in refs] if cite else []
    data: dict[str, Any] = {
        "slug": "test",
        "title": "Test",
        "lead": [{"claims": [{"id": "c-1", "text": "A sourced claim.", "citations": citations}]}],
        "references": list(refs),
    }
    data.update(fields)
    return Article.model_validate(data)


def codes(a: Article, **kwargs: Any) -> list[str]:
    return [f.code for f in run_static_checks(a, today=TODAY, **kwargs)]


def only(a: Article, code: str, **kwargs: Any) -> list[Finding]:
    return [f for f in run_static_checks(a, today=TODAY, **kwargs) if f.code == code]


def test_a_clean_article_has_no_findings() -> None:
    a = article(
        {
            "id": "r1",
            "type": "web",
            "url": "https://example.org/page",
            "date": "2019-03-01",
            "access_date": "2020-01-02",
            "archive_url": "https://web.archive.org/web/20200102030405/https://example.org/page",
            "archive_date": "2020-01-02",
        },
        {"id": "r2", "type": "book", "isbn": "978-0-306-40615-7", "title": "A book"},
        {"id": "r3", "type": "journal", "doi": "10.1000/xyz123", "issn": "0378-5955"},
    )
    assert run_static_checks(a, today=TODAY, known_titles=set()) == []


def test_every_code_is_documented_in_the_module_docstring() -> None:
    import wikicore.audit.static as checks

    assert checks.__doc__
    for code in CODES:
        assert f"\n{code} " in checks.__doc__, code
    assert len(STATIC_CHECKS) >= 10


def test_uncited_claim_is_a_warning_but_punctuation_is_not_a_claim() -> None:
    a = Article.model_validate(
        {
            "slug": "t",
            "title": "T",
            "lead": [{"claims": [{"id": "c-1", "text": "Water is wet."}, {"id": "c-2", "text": " — "}]}],
        }
    )
    found = only(a, "claim-uncited")
    assert [(f.claim_id, f.severity) for f in found] == [("c-1", Severity.WARNING)]


def test_citation_to_missing_reference_in_unvalidated_input() -> None:
    claim = Claim.model_construct(id="c-1", text="x", citations=[Citation.model_construct(ref="nope")])
    a = Article.model_construct(
        slug="t",
        title="T",
        lead=[Paragraph.model_construct(claims=[claim])],
        sections=[],
        references=[],
        see_also=[],
        aliases=[],
        source=None,
    )
    found = only(a, "citation-missing-reference")
    assert len(found) == 1 and found[0].severity == Severity.ERROR and found[0].claim_id == "c-1"
    assert "nope" in found[0].message


def test_unused_reference() -> None:
    a = article({"id": "r1", "type": "book", "title": "B"}, cite=False)
    assert [(f.ref_id, f.severity) for f in only(a, "reference-unused")] == [("r1", Severity.WARNING)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"url": "http://www.example.org/a/"}, {"url": "https://example.org/a#top"}),
        ({"isbn": "0-306-40615-2"}, {"isbn": "978-0-306-40615-7"}),  # ISBN-10 and -13 of one book
        ({"doi": "10.1000/ABC"}, {"doi": "https://doi.org/10.1000/abc"}),
    ],
)
def test_duplicate_references_normalised(first: dict[str, str], second: dict[str, str]) -> None:
    a = article({"id": "r1", "type": "web", **first}, {"id": "r2", "type": "web", **second})
    found = only(a, "reference-duplicate")
    assert [(f.ref_id, f.severity) for f in found] == [("r2", Severity.WARNING)]
    assert "'r1'" in found[0].message


def test_same_book_different_pages_is_not_a_duplicate() -> None:
    a = article(
        {"id": "r1", "type": "book", "isbn": "978-0-306-40615-7", "pages": "12"},
        {"id": "r2", "type": "book", "isbn": "978-0-306-40615-7", "pages": "40"},
    )
    assert only(a, "reference-duplicate") == []


def test_different_query_strings_are_different_pages() -> None:
    a = article({"id": "r1", "url": "https://e.org/p?id=1"}, {"id": "r2", "url": "https://e.org/p?id=2"})
    assert only(a, "reference-duplicate") == []


@pytest.mark.parametrize(
    ("isbn", "problem"),
    [
        ("978-0-306-40615-8", "check digit"),
        ("0-306-40615-3", "check digit"),
        ("97803064061", "not an ISBN"),
        ("banana", "not an ISBN"),
    ],
)
def test_bad_isbn(isbn: str, problem: str) -> None:
    found = only(article({"id": "r1", "type": "book", "isbn": isbn}), "isbn-invalid")
    assert len(found) == 1 and found[0].severity == Severity.ERROR and problem in found[0].message


@pytest.mark.parametrize(
    "isbn", ["978-0-306-40615-7", "0306406152", "ISBN 978-0-306-40615-7", "ISBN-10: 0-306-40615-2"]
)
def test_good_isbn(isbn: str) -> None:
    assert only(article({"id": "r1", "type": "book", "isbn": isbn}), "isbn-invalid") == []


@pytest.mark.parametrize(("issn", "bad"), [("0378-5955", False), ("0378-5954", True), ("12345", True)])
def test_issn(issn: str, bad: bool) -> None:
    assert bool(only(article({"id": "r1", "type": "journal", "issn": issn}), "issn-invalid")) is bad


@pytest.mark.parametrize(
    ("doi", "code"),
    [
        ("10.1000/xyz123", None),
        ("doi:10.1038/nphys1170", None),
        ("https://doi.org/10.1002/(SICI)1097-4636(199706)35:4<545::AID-JBM16>3.0.CO;2-F", None),
        ("10.1175/1520-0469(1971)028<0743:TSBOMT>2.0.CO;2", None),
        ("10.1000/xyz123”", "doi-unusual"),  # a pasted curly quote
        ("11.1000/xyz", "doi-invalid"),
        ("10.abc/xyz", "doi-invalid"),
        ("10.1000", "doi-invalid"),
        ("10.1000/has space", "doi-invalid"),
    ],
)
def test_doi(doi: str, code: str | None) -> None:
    found = [c for c in codes(article({"id": "r1", "type": "journal", "doi": doi})) if c.startswith("doi-")]
    assert found == ([code] if code else [])


def test_future_dates_are_errors_but_this_year_is_not() -> None:
    a = article(
        {"id": "r1", "type": "book", "date": "2026", "title": "x"},
        {"id": "r2", "type": "book", "date": "2026-12", "title": "y"},
        {"id": "r3", "type": "web", "url": "https://e.org/", "access_date": "2027-01-01"},
    )
    found = only(a, "date-future")
    assert [(f.ref_id, f.severity) for f in found] == [("r2", Severity.ERROR), ("r3", Severity.ERROR)]


def test_impossible_date_in_unvalidated_input() -> None:
    valid = article({"id": "r1", "type": "book", "title": "x"})
    bad = valid.references[0].model_construct(**{**valid.references[0].__dict__, "date": "2023-02-30"})
    a = valid.model_construct(**{**valid.__dict__, "references": [bad]})
    found = only(a, "date-invalid")
    assert len(found) == 1 and found[0].severity == Severity.ERROR


def test_access_before_publication() -> None:
    early = article(
        {"id": "r1", "type": "web", "url": "https://e.org/", "date": "2020-05", "access_date": "2020-04-30"}
    )
    same_month = article(
        {"id": "r1", "type": "web", "url": "https://e.org/", "date": "2020-05", "access_date": "2020-05-01"}
    )
    assert [f.severity for f in only(early, "access-before-publication")] == [Severity.WARNING]
    assert only(same_month, "access-before-publication") == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("javascript:alert(1)", "url-scheme-disallowed"),
        ("file:///etc/passwd", "url-scheme-disallowed"),
        ("ftp://ftp.example.org/x", "url-scheme-disallowed"),
        ("www.example.org/page", "url-malformed"),
        ("http://", "url-malformed"),
        ("http://example.org:99999/", "url-malformed"),
        ("http://example.org/a page", "url-malformed"),
        ("HTTPS://Example.org/ok", None),
    ],
)
def test_reference_urls(url: str, code: str | None) -> None:
    found = [c for c in codes(article({"id": "r1", "type": "web", "url": url})) if c.startswith("url-")]
    assert found == ([code] if code else [])
    if code:
        assert CODES[code] == Severity.ERROR


@pytest.mark.parametrize(
    ("archive_url", "code"),
    [
        ("https://web.archive.org/web/20200102030405/http://www.example.org/page/", None),
        ("https://web.archive.org/web/20200102030405/https://example.org/other", "archive-url-mismatch"),
        ("https://web.archive.org/web/*/https://example.org/page", "archive-url-malformed"),
        ("https://example.org/cached/page", "archive-url-malformed"),
        ("javascript:alert(1)", "archive-url-malformed"),
    ],
)
def test_archive_url(archive_url: str, code: str | None) -> None:
    a = article({"id": "r1", "type": "web", "url": "https://example.org/page", "archive_url": archive_url})
    assert [c for c in codes(a) if c.startswith("archive-")] == ([code] if code else [])


def test_archive_url_under_a_configured_wayback_root() -> None:
    link = "http://127.0.0.1:8123/web/20200102030405/https://example.org/page"
    a = article({"id": "r1", "type": "web", "url": "https://example.org/page", "archive_url": link})
    assert "archive-url-malformed" in codes(a)
    assert "archive-url-malformed" not in codes(a, archive_base="http://127.0.0.1:8123")


@pytest.mark.parametrize(
    ("archive_date", "bad"),
    [("2020-01-02", False), ("2020-01-03", False), ("2020-01-05", True), ("2020", False), ("2019", True)],
)
def test_archive_date_against_snapshot_timestamp(archive_date: str, bad: bool) -> None:
    a = article(
        {
            "id": "r1",
            "type": "web",
            "url": "https://example.org/page",
            "archive_url": "https://web.archive.org/web/20200102030405/https://example.org/page",
            "archive_date": archive_date,
        }
    )
    assert bool(only(a, "archive-date-mismatch")) is bad


def test_unverifiable_web_and_news_references() -> None:
    a = article(
        {"id": "r1", "type": "web", "title": "Somewhere online"},
        {"id": "r2", "type": "news", "title": "A paper", "issn": "0378-5955"},
        {
            "id": "r3",
            "type": "news",
            "title": "Archived",
            "archive_url": "https://web.archive.org/web/2020/http://x.org/",
        },
        {"id": "r4", "type": "book", "title": "Books are found by title"},
    )
    assert [f.ref_id for f in only(a, "reference-unverifiable")] == ["r1", "r2"]


def test_see_also_against_known_titles_and_aliases() -> None:
    a = article(see_also=["Known Article", "known_article", "Alias of another", "Missing page"])
    assert only(a, "see-also-missing") == []  # no titles given: skipped, not all flagged
    found = only(a, "see-also-missing", known_titles={"Known article", "Alias Of Another"})
    assert [f.message for f in found] == ["see also 'Missing page': no such article in the wiki"]


def test_source_warnings_surface_as_info() -> None:
    a = article(source={"format": "text", "warnings": ["lost the citations"]})
    found = only(a, "source-warning")
    assert [(f.severity, f.message) for f in found] == [(Severity.INFO, "import: lost the citations")]


def test_seed_article_findings() -> None:
    a = load_path(SEED_ARTICLE)
    found = codes(a, known_titles=set())
    # The seed's copy lost every citation marker and every url: say so, and say it loudly enough.
    assert "claim-uncited" in found and "reference-unused" in found and "source-warning" in found
    assert "reference-unverifiable" in found
    assert not any(code.startswith(("isbn-", "doi-", "date-")) for code in found)


def test_helpers() -> None:
    assert normalise_url("HTTP://WWW.Example.org:80/a/%7Euser/") == normalise_url("https://example.org/a/~user")
    assert normalise_url("https://example.org:8080/") != normalise_url("https://example.org/")
    assert normalise_isbn("0-306-40615-2") == "9780306406157"
    assert normalise_doi("DOI: 10.1000/ABC") == "10.1000/abc"
    assert date_range("2020-02") == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert date_range("2020-12") == (dt.date(2020, 12, 1), dt.date(2020, 12, 31))
    assert date_range("2021-02-29") is None
    assert Severity.ERROR.rank > Severity.WARNING.rank > Severity.INFO.rank


@pytest.mark.parametrize(
    "link", ["https://archive.ph/AbCdE", "http://www.webcitation.org/6abc", "https://ghostarchive.org/archive/x1"]
)
def test_other_archives_are_noted_not_errors(link: str) -> None:
    a = article({"id": "r1", "type": "web", "url": "https://example.org/page", "archive_url": link})
    found = [f for f in run_static_checks(a, today=TODAY) if f.code.startswith("archive-")]
    assert [(f.code, f.severity) for f in found] == [("archive-url-other-service", Severity.INFO)]


def test_dates_before_the_web_or_the_wayback_machine_are_impossible() -> None:
    a = article(
        {"id": "r1", "type": "web", "url": "https://e.org/1", "access_date": "1990-05-01"},
        {"id": "r2", "type": "web", "url": "https://e.org/2", "access_date": "1991"},  # could be after August
        {"id": "r3", "type": "web", "url": "https://e.org/3", "archive_date": "1995-12-31"},
        {"id": "r4", "type": "book", "title": "Old", "date": "1605"},  # old books are fine
    )
    found = only(a, "date-impossible")
    assert [(f.ref_id, f.severity) for f in found] == [("r1", Severity.ERROR), ("r3", Severity.ERROR)]
    assert "1991-08-06" in found[0].message


def _paragraph_article(*claims: dict[str, Any]) -> Article:
    return Article.model_validate({
        "slug": "t", "title": "T", "lead": [{"claims": list(claims)}],
        "references": [{"id": "r1", "title": "A source"}, {"id": "r2", "title": "Another"}],
    })


def test_a_citation_ending_its_paragraph_covers_the_claims_before_it() -> None:
    covered = _paragraph_article(
        {"id": "c-1", "text": "The river is long. "},
        {"id": "c-2", "text": "It flows north. "},
        {"id": "c-3", "text": "It floods in spring.", "citations": [{"ref": "r1", "covers": "paragraph"}]},
    )
    assert only(covered, "claim-uncited") == []
    per_claim = _paragraph_article(
        {"id": "c-1", "text": "The river is long. "},
        {"id": "c-2", "text": "It flows north. "},
        {"id": "c-3", "text": "It floods in spring.", "citations": [{"ref": "r1"}]},
    )
    assert [f.claim_id for f in only(per_claim, "claim-uncited")] == ["c-1", "c-2"]


def test_a_paragraph_citation_covers_only_back_to_the_previous_citation() -> None:
    a = _paragraph_article(
        {"id": "c-1", "text": "The town was founded in 1820. "},
        {"id": "c-2", "text": "Its mayor is elected. ", "citations": [{"ref": "r2"}]},
        {"id": "c-3", "text": "The school opened later. "},
        {"id": "c-4", "text": "Trade grew.", "citations": [{"ref": "r1", "covers": "paragraph"}]},
    )
    assert [[c.ref for c in s] for s in a.lead[0].support()] == [[], ["r2"], ["r1"], ["r1"]]
    # r2 supports its own claim only: the sentence before it is not covered by anything.
    assert [f.claim_id for f in only(a, "claim-uncited")] == ["c-1"]


def test_a_claim_tagged_citation_needed_is_always_uncited() -> None:
    a = _paragraph_article(
        {"id": "c-1", "text": "The river is long. "},
        {"id": "c-2", "text": "It is the longest in Europe. ", "citation_needed": True,
         "wikitext": "It is the longest in Europe.{{citation needed}} "},
        {"id": "c-3", "text": "It floods in spring.", "citations": [{"ref": "r1", "covers": "paragraph"}]},
    )
    found = only(a, "claim-uncited")
    assert [f.claim_id for f in found] == ["c-2"]
    assert "tagged as needing a citation" in found[0].message
    # Even when it cites something: the editor who tagged it says that source does not hold it up.
    # (and r2 now stands between c-1 and the paragraph's citation, which no longer reaches c-1).
    a.lead[0].claims[1].citations = [Citation(ref="r2")]
    assert [f.claim_id for f in only(a, "claim-uncited")] == ["c-1", "c-2"]


def test_a_reference_marked_dead_without_an_archive_is_a_warning() -> None:
    a = article(
        {"id": "dead", "type": "web", "url": "https://example.org/gone", "url_status": "dead"},
        {"id": "rescued", "type": "web", "url": "https://example.org/old", "url_status": "dead",
         "archive_url": "https://web.archive.org/web/20100101000000/https://example.org/old",
         "archive_date": "2010-01-01"},
        {"id": "live", "type": "web", "url": "https://example.org/live", "url_status": "live"},
        {"id": "unmarked", "type": "web", "url": "https://example.org/unknown"},
    )
    found = only(a, "link-marked-dead-no-archive")
    assert [(f.ref_id, f.severity) for f in found] == [("dead", Severity.WARNING)]
    assert "https://example.org/gone" in found[0].message
