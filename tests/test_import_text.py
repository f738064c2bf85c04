"""The seed importer: structure, every character kept, nothing invented."""

from __future__ import annotations

import re

import pytest
from stdnum import isbn

from wikicore import import_path, import_text
from wikicore.importers.text import parse_reference
from wikicore.models import Article
from wikicore.serialize import dumps, load_path

from .conftest import SEED, SEED_ARTICLE, SHARED_SEED


@pytest.fixture(scope="module")
def article() -> Article:
    return import_path(SEED, "text")


def test_seed_copy_matches_shared_seed() -> None:
    if not SHARED_SEED.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_title_alias_slug_language(article: Article) -> None:
    assert article.title == "アゼルバイジャンとロシアの関係"
    assert article.aliases == ["Azerbaijan–Russia relations"]  # en dash, decoded once
    assert article.slug == "azerbaijan-russia-relations"
    assert article.language == "ja"
    assert article.source is not None
    assert article.source.page_name == "Azerbaijan%E2%80%93Russia_relations"


def test_section_tree_from_toc(article: Article) -> None:
    headings = [s.heading for s in article.sections]
    assert headings == ["歴史", "現代の関係", "軍事および安全保障協力", "経済関係", "文化的関係"]
    assert [s.heading for s in article.sections[0].sections] == [
        "先史時代",
        "独立後",
        "ロシアの武器は2008年にアルメニアに移転",
        "内訳と更新",
    ]
    assert [s.id for _, s in article.iter_sections()][:3] == ["s-1", "s-1-1", "s-1-2"]


def test_see_also_and_external_links(article: Article) -> None:
    assert len(article.see_also) == 7
    assert article.see_also[0] == "アゼルバイジャンの対外関係"
    assert [link.title for link in article.external_links] == [
        "コモンズには、アゼルバイジャンとロシアの関係に関連するメディアが",
        "バクーのロシア連邦大使館”",
    ]


def test_references(article: Article) -> None:
    refs = article.references
    assert len(refs) == 20
    isbns = [r.isbn for r in refs if r.isbn]
    assert isbns == ["9780231070683", "9780897749404", "9780742500631", "9780203988879"]
    assert all(isbn.is_valid(i) and len(i) == 13 for i in isbns)
    assert {r.id: r.archive_date for r in refs if r.archive_date} == {
        "ref-4": "2012-05-28",
        "ref-17": "2011-11-17",
        "ref-20": "2015-01-19",
    }
    first = refs[0]
    assert first.authors == ["Swietochowski、Tadeusz"]
    assert (first.date, first.publisher, first.pages, first.type) == ("1995", "コロンビア大学出版", "69、133", "book")
    assert refs[2].authors == ["E. Ebel、Robert", "Menon、Rajan"]
    cornell = refs[4]
    assert (cornell.access_date, cornell.via) == ("2016-09-29", "Googleブックス")
    assert refs[7].work == "ガーディアン" and refs[7].type == "news"
    assert refs[18].title == "News.Az–アゼルバイジャン人はロシアで「異なるイメージ」を必要としている"
    assert refs[19].authors == ["ZulfugarAgayev"] and refs[19].date == "2013-08-13"


def test_references_raw_is_exact(seed_text: str, article: Article) -> None:
    for ref in article.references:
        assert ref.raw is not None and ref.raw in seed_text
    # The wrapped ISBN keeps its line break; the two that shared a line are split at " ^ ".
    assert article.references[1].raw is not None and "ISBN\n\xa0978-0-89774-940-4。" in article.references[1].raw
    assert article.references[16].raw == "2011年11月17日、ウェイバックマシンでアーカイブされた味方も敵もいない"
    assert article.references[17].raw == "アゼルバイジャンのマイノリティの状況"


def test_nothing_invented(article: Article) -> None:
    assert all(not claim.citations for claim in article.claims())
    assert all(r.url is None and r.archive_url is None for r in article.references)
    warnings = article.source.warnings if article.source else []
    assert any("inline citation markers" in w for w in warnings)
    assert any("20 of 20 references have no url" in w for w in warnings)
    assert sum("archived at the Wayback Machine" in w for w in warnings) == 3


def _body_lines(seed_text: str) -> list[str]:
    lines = seed_text.split("\n")
    start = lines.index("歴史", lines.index("コンテンツ") + 10)
    end = lines.index("も参照してください", start)
    return [line for line in lines[start:end] if line.strip()]


def test_every_body_sentence_is_a_claim_character_for_character(seed_text: str, article: Article) -> None:
    paragraphs = {p.text for p in article.lead} | {
        p.text for _, s in article.iter_sections() for p in s.paragraphs
    }
    headings = {s.heading for _, s in article.iter_sections()}
    captions = "\n".join(m.raw or "" for m in article.media)
    body = [line for line in _body_lines(seed_text) if line not in headings and line not in captions]
    assert body, "the seed body was not found"
    for line in body:
        assert line in paragraphs, line[:40]
    claim_texts = [c.text for c in article.claims()]
    sentence_count = sum(len(re.findall(r"[。！？]", line)) for line in body)
    assert len(claim_texts) >= sentence_count


def test_paragraphs_join_back_exactly(article: Article) -> None:
    for _, section in article.iter_sections():
        for paragraph in section.paragraphs:
            assert "".join(c.text for c in paragraph.claims) == paragraph.text
            assert paragraph.claims


def test_every_seed_line_is_accounted_for(seed_text: str, article: Article) -> None:
    """Each non-empty line lives somewhere in the article.

    Not stored: the TOC (derived from the sections) and the headings of the
    structural lists (see also, references, external links), which become fields.
    """
    dumped = dumps(article, "json")
    import json

    strings: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(json.loads(dumped))
    paragraphs = [*article.lead, *(p for _, s in article.iter_sections() for p in s.paragraphs)]
    joined = "\n".join(strings) + "\n" + "\n".join(p.text for p in paragraphs)
    toc_start = seed_text.split("\n").index("コンテンツ")
    for number, line in enumerate(seed_text.split("\n")):
        if not line.strip() or toc_start <= number <= toc_start + 9:
            continue
        if line in {"も参照してください", "参考文献", "外部リンク"}:
            continue
        text = line.removeprefix("^ ").strip()
        for part in text.split(" ^ "):
            assert part.strip() in joined, f"seed line {number + 1} lost: {line[:40]}"


def test_media_captions_are_not_claims(article: Article) -> None:
    claims = "".join(c.text for c in article.claims())
    assert [m.kind for m in article.media] == ["infobox", "image", "image"]
    assert "マフムード・アフメディネジャド" not in claims
    assert article.media[1].section == "s-4"


def test_committed_article_equals_importer_output(article: Article) -> None:
    assert SEED_ARTICLE.read_text(encoding="utf-8") == dumps(article)
    assert load_path(SEED_ARTICLE) == article


def test_import_is_deterministic(seed_text: str) -> None:
    a = import_text(seed_text, "text", file_name="seed.txt")
    b = import_text(seed_text, "text", file_name="seed.txt")
    assert dumps(a) == dumps(b)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Doe、Jane(2001)。Title。Pub。頁。5 ISBN 0-306-40615-2。", {"isbn": "9780306406157", "pages": "5"}),
        ("「T」。Work。", {"title": "T", "work": "Work", "type": "news"}),
        ("T アーカイブで2012年2月30日、ウェイバックマシン", {"archive_date": None}),
    ],
    ids=["isbn10-normalised-to-13", "quoted-news", "impossible-archive-date-dropped"],
)
def test_parse_reference_cases(raw: str, expected: dict[str, object]) -> None:
    parsed = parse_reference(raw, "r")
    for key, value in expected.items():
        assert parsed.fields.get(key) == value


def test_bad_isbn_checksum_is_kept_and_warned() -> None:
    parsed = parse_reference("Doe、Jane(2001)。Title。Pub。 ISBN 978-0-306-40615-8。", "r")
    assert parsed.fields["isbn"] == "9780306406158"
    assert any("checksum" in w for w in parsed.warnings)
