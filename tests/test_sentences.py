"""The sentence splitter: never loses a character; Latin, CJK and mixed punctuation; abbreviations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikicore.sentences import split_sentences

CASES = {
    "latin": ("One. Two! Three? Four", ["One. ", "Two! ", "Three? ", "Four"]),
    "japanese": ("東京は首都である。人口は多い！本当か？", ["東京は首都である。", "人口は多い！", "本当か？"]),
    "japanese_quotes": ("「こんにちは。」と言った。次。", ["「こんにちは。」と言った。", "次。"]),
    "japanese_closing_bracket": ("（注。）次の文。", ["（注。）次の文。"]),
    "japanese_double_terminator": ("本当！？次。", ["本当！？", "次。"]),
    "fullwidth_decimal": ("３．５メートル。次．終わり", ["３．５メートル。", "次．", "終わり"]),
    "mixed_latin_then_cjk": ("He said hello.次の文です。", ["He said hello.", "次の文です。"]),
    "mixed_cjk_then_latin": ("東京は大きい。Tokyo is big. 大阪も。", ["東京は大きい。", "Tokyo is big. ", "大阪も。"]),
    "cyrillic": ("Москва — столица. Город большой.", ["Москва — столица. ", "Город большой."]),
    "us": ("The U.S. Army won. Then it left.", ["The U.S. Army won. ", "Then it left."]),
    "us_at_sentence_end": ("It was in the U.S. He left.", ["It was in the U.S. ", "He left."]),
    "eg": ("Fruit, e.g. Apples, is good. Yes.", ["Fruit, e.g. Apples, is good. ", "Yes."]),
    "number": ("He was No. 5 in line. Yes.", ["He was No. 5 in line. ", "Yes."]),
    "decimal": ("It cost $3.5 million. Next.", ["It cost $3.5 million. ", "Next."]),
    "title": ("Dr. Smith came. He sat.", ["Dr. Smith came. ", "He sat."]),
    "initials": ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it. ", "Yes."]),
    "quote_closer": ('He said "Stop." Then left.', ['He said "Stop." ', "Then left."]),
    "lower_case_continues": ("Approx. ten people. Ok.", ["Approx. ten people. ", "Ok."]),
    "brackets": ("See (e.g. Fig. 2. Next) here. Done.", ["See (e.g. Fig. 2. Next) here. ", "Done."]),
    "newline": ("Line one.\nLine two.", ["Line one.\n", "Line two."]),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_split(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_empty() -> None:
    assert split_sentences("") == []


@given(st.text(alphabet=st.sampled_from(list("ab .!?。！？「」()\n U.S.3,東京"))))
def test_join_gives_the_text_back(text: str) -> None:
    assert "".join(split_sentences(text)) == text


@given(st.text())
def test_join_gives_any_text_back(text: str) -> None:
    parts = split_sentences(text)
    assert "".join(parts) == text
    assert all(parts)


# --- linear time, the same sentences as before ---------------------------------------------

from .support import sentences_reference  # noqa: E402

_HOSTILE_ALPHABET = st.sampled_from(
    [*list("aAzZUSe.!? \n\t'\"()（）「」『』“”‘’[]。！？．3漢"), "Mr.", "U.S.", "e.g.", " He", " the", "No."]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_HOSTILE_ALPHABET, max_size=60).map("".join))
def test_same_sentences_as_the_reference_splitter(text: str) -> None:
    assert split_sentences(text) == sentences_reference.split_sentences(text)


@pytest.mark.parametrize("name", ["mr", "dots", "spaces", "openers", "acronym_run", "newline_word"])
def test_hostile_shapes_agree_with_the_reference(name: str) -> None:
    """Short versions of the inputs that made the old splitter quadratic, compared exactly."""
    text = {
        "mr": "Mr. x " * 50, "dots": "a" + "." * 300 + " x", "spaces": "a." * 3 + " " * 300 + "B",
        "openers": "(" * 200 + "」" * 200 + "End. Next.", "acronym_run": "A." * 200 + " He left.",
        "newline_word": "Dr\n. Smith. He\n. x",
    }[name]
    assert split_sentences(text) == sentences_reference.split_sentences(text)
