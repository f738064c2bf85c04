"""The normal form shared by quote checks, drift and fingerprints, and its offsets back to the original."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikicore.sources.normalize import NormalText, normalize, normalize_quote, tokens

# The package exports the function ``normalize``, which hides the module of the same name.
normal_module = importlib.import_module("wikicore.sources.normalize")

CASES = [
    ("curly quotes", "\u201cIt\u2019s\u201d", '"it\'s"'),
    ("dashes and minus", "1990\u20131995 \u2014 \u22125", "1990-1995 - -5"),
    ("ellipsis character", "and so\u2026", "and so..."),
    ("soft hyphen", "accom\u00admodation", "accommodation"),
    ("zero-width space", "data\u200bbase", "database"),
    ("no-break space and runs of whitespace", "a\u00a0\u00a0b \n\t c", "a b c"),
    ("full-width forms", "\uff21\uff22\uff23\uff11\uff12\uff13", "abc123"),
    ("half-width katakana", "\uff76\uff85", "\u30ab\u30ca"),
    ("ligature", "\ufb01nal", "final"),
    ("case folding", "STRASSE Stra\u00dfe", "strasse strasse"),
    ("a real hyphen stays", "well-known", "well-known"),
    ("line breaks between CJK characters", "\u7b2c\n\u4e8c\n\u6761", "\u7b2c\u4e8c\u6761"),
    ("Korean keeps its word spaces", "\ud55c\uad6d \uc5b4", "\ud55c\uad6d \uc5b4"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_normalize(name: str, text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_quote_entities_are_undone() -> None:
    assert normalize_quote("Tom &amp; Jerry&rsquo;s &quot;show&quot;") == "tom & jerry's \"show\""


def test_tokens_split_cjk_characters() -> None:
    assert tokens(normalize("\u8846\u9662\u306f\uff19\u65e5 Hello, world")) == [
        "\u8846", "\u9662", "\u306f", "9", "\u65e5", "hello", "world"]


_ALPHABET = st.sampled_from(
    [*"ab -\n\t.", "\u7b2c", "\u4e8c", "\uff21", "\u2019", "\u00ad", "\u00e9", "e\u0301", "\u2026", "\u0130",
     "\u00df", "\ud55c", "\u200b"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_ALPHABET, max_size=120).map("".join))
def test_chunked_form_equals_whole_form(text: str) -> None:
    """Chunks are cut so that normalising them one by one gives the whole text's normal form."""
    original = normal_module.CHUNK_CHARS
    normal_module.CHUNK_CHARS = 8
    try:
        chunked = NormalText.of(text)
    finally:
        normal_module.CHUNK_CHARS = original
    assert chunked.text.strip() == normalize(text)
    for offset in range(len(chunked.text)):
        assert 0 <= chunked.to_original(offset) <= len(text)


def test_offsets_map_back_to_the_original() -> None:
    quoted = "She said \u201cthe\u00a0quick   brown fox\u201d \u2014 twice."
    text = ("Filler words here. " * 300) + quoted + " tail" * 50
    mapped = NormalText.of(text)
    start = mapped.text.find('"the quick brown fox"')
    assert start > 0
    original = mapped.to_original(start)
    assert text[original:].startswith("\u201cthe\u00a0quick")
