"""Validation rules of the article model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wikicore.models import Article, Claim, Reference, check_slug, slugify


def article(**extra: object) -> dict[str, object]:
    return {"slug": "a", "title": "A", **extra}


def test_ids_are_minted_deterministically_and_deduplicated() -> None:
    data = article(lead=[{"claims": [{"text": "Same."}, {"text": "Same."}]}], references=[{"title": "T"}])
    first, second = Article.model_validate(data), Article.model_validate(data)
    ids = [c.id for c in first.claims()]
    assert ids == [c.id for c in second.claims()]
    assert ids[0] != ids[1] and ids[1] == ids[0] + "-2"
    assert first.references[0].id.startswith("r-")
    assert "id" not in data["lead"][0]["claims"][0]  # type: ignore[index]  # caller's dict untouched


def test_explicit_ids_are_kept_and_duplicates_refused() -> None:
    ok = Article.model_validate(article(lead=[{"claims": [{"id": "c1", "text": "x"}]}]))
    assert ok.claims()[0].id == "c1"
    with pytest.raises(ValidationError, match="duplicate claim id 'c1'"):
        Article.model_validate(article(lead=[{"claims": [{"id": "c1", "text": "x"}, {"id": "c1", "text": "y"}]}]))


def test_dangling_citation_names_path_and_suggests() -> None:
    with pytest.raises(ValidationError) as info:
        Article.model_validate(
            article(
                references=[{"id": "ref-1", "title": "T"}],
                lead=[{"claims": [{"text": "x", "citations": [{"ref": "ref-l"}]}]}],
            )
        )
    message = str(info.value)
    assert "lead[0].claims[0].citations[0].ref" in message and "did you mean 'ref-1'" in message


@pytest.mark.parametrize("bad", ["\x00", "a\x1bb", "\r", "\x7f", "\ud800", "\x9b"], ids=repr)
def test_text_refuses_controls_and_lone_surrogates(bad: str) -> None:
    with pytest.raises(ValidationError):
        Claim(id="c", text=bad)


@pytest.mark.parametrize("good", ["tab\tnewline\n", "NEL\x85", "LS\u2028PS\u2029", "🎉", "עברית", "日本語"])
def test_text_accepts_real_text(good: str) -> None:
    assert Claim(id="c", text=good).text == good


@pytest.mark.parametrize("date", ["1995", "1995-06", "2016-02-29"])
def test_partial_dates(date: str) -> None:
    assert Reference(id="r", date=date).date == date


@pytest.mark.parametrize("date", ["95", "1995\n", "1995-13", "2015-02-29", "1995-6-1", "yesterday"])
def test_impossible_dates_refused(date: str) -> None:
    with pytest.raises(ValidationError):
        Reference(id="r", date=date)


def test_ids_refuse_trailing_newline() -> None:
    with pytest.raises(ValidationError):
        Claim(id="c1\n", text="x")


def test_unknown_field_forbidden() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Reference.model_validate({"id": "r", "titel": "x"})


@pytest.mark.parametrize(
    "slug",
    ["../etc/passwd", ".git", ".GIT", "a/b", "Foo", "foo\n", "foo\r", "-x", "a..b", "x.", "",
     "café".replace("é", "e\u0301"), "x" * 121, "git", "GIT~1".lower()],
)
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(ValueError):
        check_slug(slug)


def test_good_slugs_and_slugify() -> None:
    assert check_slug("café") == "café"
    assert slugify("Azerbaijan–Russia relations") == "azerbaijan-russia-relations"
    assert slugify("ＡＢＣ　Foo") == "abc-foo"
    assert slugify("アゼルバイジャンとロシアの関係") == "アゼルバイジャンとロシアの関係"


def test_language_tag() -> None:
    assert Article.model_validate(article(language="en-GB")).language == "en-GB"
    with pytest.raises(ValidationError):
        Article.model_validate(article(language="english!"))


OLD_FILE = """\
$schema: ../schemas/article.schema.json
schema_version: 1
slug: river
title: River
lead:
- claims:
  - id: c-1
    text: 'The river is long. '
  - id: c-2
    text: It floods.
    citations:
    - ref: r-1
      locator: p. 4
references:
- id: r-1
  title: Survey
"""


def test_files_written_before_paragraph_citations_load_and_save_unchanged() -> None:
    from wikicore.serialize import dumps, loads

    article = loads(OLD_FILE)
    assert article.lead[0].claims[1].citations[0].covers == "claim"
    assert not any(claim.citation_needed for claim in article.claims())
    assert dumps(article) == OLD_FILE
    # A per-claim citation supports its own claim only: the first sentence rests on nothing.
    assert [bool(s) for s in article.lead[0].support()] == [False, True]


def test_a_paragraph_citation_is_stored_only_when_it_covers_the_paragraph() -> None:
    from wikicore.serialize import dumps, loads

    text = OLD_FILE.replace("      locator: p. 4\n", "      locator: p. 4\n      covers: paragraph\n")
    article = loads(text)
    assert dumps(article) == text
    assert [bool(s) for s in article.lead[0].support()] == [True, True]
    with pytest.raises(ValidationError):
        Claim.model_validate({"id": "c", "text": "x", "citations": [{"ref": "r", "covers": "section"}]})


def test_build_validators_builds_every_deferred_model() -> None:
    """What ``wikicore serve`` calls at start, so no request pays for a validator's first build."""
    import subprocess
    import sys

    # A fresh interpreter: in this one, earlier tests have built the validators already.
    code = (
        "import pydantic, wikicore.models as m\n"
        "models = [v for v in vars(m).values() if isinstance(v, type) and issubclass(v, pydantic.BaseModel)"
        " and v.__module__ == m.__name__ and v.__name__ != '_Model']\n"
        "assert not any(x.__pydantic_complete__ for x in models), 'built at import: the test proves nothing'\n"
        "m.build_validators()\n"
        "print(sorted(x.__name__ for x in models if not x.__pydantic_complete__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
