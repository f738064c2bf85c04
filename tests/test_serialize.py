"""Deterministic dumps, exact round trips, and refusal of hostile files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikicore.cli import main
from wikicore.errors import InvalidArticle
from wikicore.models import Article
from wikicore.serialize import MAX_BYTES, dumps, load_path, loads

from .conftest import SEED_ARTICLE

_CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
_CONTROLS += [chr(c) for c in range(0x7F, 0xA0) if c != 0x85]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=_CONTROLS), max_size=40)
ODD = st.sampled_from(
    ["\x85", "\u2028", "\u2029", "🎉", "日本語。", "עברית", " ", "\n", "no", "1995", "- x", "#", "'", '"']
)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    texts = st.lists(st.one_of(TEXT, ODD, st.builds(lambda a, b: a + b, ODD, TEXT)), min_size=1, max_size=4)
    claims = [{"text": t} for t in draw(texts)]
    refs = [{"id": f"r{i}", "title": t, "raw": t} for i, t in enumerate(draw(texts))]
    return Article.model_validate(
        {
            "slug": "a",
            "title": draw(TEXT.filter(bool)),
            "lead": [{"claims": claims}],
            "sections": [{"heading": draw(TEXT), "paragraphs": [{"claims": [{"text": draw(TEXT)}]}]}],
            "references": refs,
            "see_also": draw(st.lists(TEXT, max_size=2)),
        }
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_round_trip_yaml_and_json(article: Article) -> None:
    text = dumps(article)
    assert loads(text) == article
    assert dumps(loads(text)) == text  # same model, same bytes
    assert loads(dumps(article, "json"), "json") == article


EXAMPLES = ["NEL\x85end", "LS\u2028PS\u2029", "emoji 🎉🏳️‍🌈", "日本語。", "עברית ومرحبا", "trailing ", " lead",
            "multi\nline\n\n", "\n", "on", "2016-09-29", "null", "~", "0x10", "1e3", "&a *b", "a: b"]


@pytest.mark.parametrize("text", EXAMPLES)
def test_round_trip_examples(text: str) -> None:
    article = Article.model_validate({"slug": "a", "title": text or "t", "lead": [{"claims": [{"text": text}]}]})
    assert loads(dumps(article)) == article


def test_seed_article_round_trips_byte_exact() -> None:
    raw = SEED_ARTICLE.read_text(encoding="utf-8")
    assert dumps(loads(raw)) == raw


def test_yaml11_words_stay_strings() -> None:
    article = loads("slug: a\ntitle: no\naliases: [on, yes, 2016-09-29]\n")
    assert article.title == "no" and article.aliases == ["on", "yes", "2016-09-29"]


def test_numbers_in_string_fields_become_strings() -> None:
    article = loads("slug: a\ntitle: t\nreferences:\n- id: r1\n  pages: 69\n  date: 1995\n")
    assert article.references[0].pages == "69" and article.references[0].date == "1995"


HOSTILE = {
    "alias-bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
    "duplicate-keys": "slug: a\ntitle: t\nslug: b\n",
    "python-object": "slug: a\ntitle: !!python/object/apply:os.system ['echo pwned']\n",
    "deep-nesting": "slug: a\ntitle: " + "[" * 5000 + "]" * 5000 + "\n",
    "unknown-field": "slug: a\ntitle: t\nreferences:\n- id: r1\n  titel: x\n",
    "dangling-citation": "slug: a\ntitle: t\nlead:\n- claims:\n  - text: x\n    citations:\n    - ref: nope\n",
    "not-a-mapping": "- a\n- b\n",
    "bad-yaml": "slug: a\ntitle: [unclosed\n",
}
EXPECTED = {
    "alias-bomb": ":1: anchors are not allowed",
    "duplicate-keys": ":3: duplicate key 'slug' (first at line 1)",
    "python-object": ":2: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    "deep-nesting": "nesting deeper than 64 levels",
    "unknown-field": ":5: references[0].titel: unknown field; did you mean 'title'?",
    "dangling-citation": ":7: lead[0].claims[0].citations[0].ref: names no reference 'nope'",
    "not-a-mapping": ":1: an article must be a mapping of fields",
    "bad-yaml": ":3: while parsing a flow sequence",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_gives_exit_2_and_one_clear_line(name: str, tmp_path: Path, runner: object) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HOSTILE[name], encoding="utf-8")
    result = runner.invoke(main, ["validate", str(path)])  # type: ignore[attr-defined]
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}")
    assert EXPECTED[name] in lines[0]
    assert "Traceback" not in result.output


def test_huge_file_refused_before_reading(tmp_path: Path, runner: object) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    result = runner.invoke(main, ["validate", str(path)])  # type: ignore[attr-defined]
    assert result.exit_code == 2
    assert f"the limit is {MAX_BYTES:,}" in result.stderr
    assert time.perf_counter() - started < 5  # sanity bound, not a benchmark: it must not parse 50 MB


def test_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"slug: a\ntitle: caf\xe9\n")
    with pytest.raises(InvalidArticle) as info:
        load_path(path)
    assert str(info.value) == f"{path}:2: invalid UTF-8 at byte 18 (b'\\xe9')"


def test_many_problems_are_cut_at_20(tmp_path: Path) -> None:
    refs = "".join(f"- id: r{i}\n  bogus{i}: x\n" for i in range(30))
    path = tmp_path / "many.yaml"
    path.write_text(f"slug: a\ntitle: t\nreferences:\n{refs}", encoding="utf-8")
    with pytest.raises(InvalidArticle) as info:
        load_path(path)
    lines = info.value.lines()
    assert len(lines) == 21 and lines[-1] == "and 10 more"


def test_json_duplicates_and_depth(tmp_path: Path) -> None:
    dup = tmp_path / "dup.json"
    dup.write_text('{"slug": "a", "title": "t", "slug": "b"}', encoding="utf-8")
    with pytest.raises(InvalidArticle, match="duplicate key 'slug'"):
        load_path(dup)
    deep = tmp_path / "deep.json"
    deep.write_text('{"slug": "a", "title": ' + "[" * 100000 + "]" * 100000 + "}", encoding="utf-8")
    with pytest.raises(InvalidArticle, match="nesting deeper"):
        load_path(deep)
    assert json.loads(dumps(loads("slug: a\ntitle: t\n"), "json"))["$schema"] == "../schemas/article.schema.json"


@pytest.mark.parametrize("loader", __import__("wikicore.serialize").serialize._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ["alias-bomb", "duplicate-keys", "python-object", "deep-nesting", "unknown-field"])
def test_both_yaml_loaders_refuse_hostile_input(
    loader: type, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml scans when present; the pure-Python loader must refuse the same things."""
    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "_LOADERS", [loader])
    with pytest.raises(InvalidArticle) as info:
        loads(HOSTILE[name], source="f.yaml")
    assert EXPECTED[name].removeprefix(":") in str(info.value)


@pytest.mark.parametrize("loader", __import__("wikicore.serialize").serialize._LOADERS, ids=lambda c: c.__name__)
def test_both_yaml_loaders_agree_on_the_seed(loader: type, monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "_LOADERS", [loader])
    raw = SEED_ARTICLE.read_text(encoding="utf-8")
    assert dumps(loads(raw)) == raw


@pytest.mark.skipif(len(__import__("wikicore.serialize").serialize._DUMPERS) < 2, reason="PyYAML without libyaml")
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_dumps_writes_the_python_emitters_bytes(article: Article) -> None:
    """Stored files must not depend on whether PyYAML was built with libyaml."""
    import yaml

    import wikicore.serialize as serialize

    python = yaml.dump(
        serialize.to_data(article), Dumper=serialize._Dumper, allow_unicode=True, sort_keys=False,
        default_flow_style=False, width=1_000_000, indent=2,
    )
    assert dumps(article) == python
