"""Hostile plain text (no crafted input makes it quadratic): the sentence splitter and the text importer stay linear.

The splitter's answers are pinned against the old splitter in test_sentences.py;
here the shapes that made it (and the text importer) quadratic run at full size
under a generous hang ceiling.
"""

from __future__ import annotations

import pytest

from wikicore.importers.text import import_page_text
from wikicore.sentences import split_sentences

from .support.hostile_helpers import ceiling

SENTENCE_CASES = {
    "mr-x-120kb": "Mr. x " * 20_000,  # 64 s before the splitter was made linear
    "dots-100k": "a" + "." * 100_000 + " x",
    "letters-then-dots": "a" * 50_000 + "." * 50_000 + " x",
    "openers-then-stray-closers": "(" * 100_000 + "」" * 100_000,
    "acronym-run": "A." * 60_000 + " He left.",
    "spaces-after-dots": "x." * 1000 + " " * 100_000 + "Y",
}


@pytest.mark.parametrize("name", SENTENCE_CASES)
def test_hostile_paragraphs_split_in_linear_time(name: str) -> None:
    text = SENTENCE_CASES[name]
    with ceiling():
        sentences = split_sentences(text)
    assert "".join(sentences) == text


def test_a_16000_entry_table_of_contents_imports() -> None:
    """Every TOC line was matched against every number before it, and headings popped from a list's front."""
    count = 16_000
    text = ("Title\n\nLead.\n\nContents\n" + "".join(f"{i} H{i}\n" for i in range(1, count)) + "\n"
            + "".join(f"H{i}\nBody {i}.\n" for i in range(1, count)))
    with ceiling():
        article = import_page_text(text, file_name="toc.txt")
    assert len(article.sections) == count - 1


def test_a_5000_digit_toc_number_is_text_not_a_crash() -> None:
    """int() refuses 5,000 digits (ValueError, exit 4 before); such a number is not a TOC entry."""
    text = "Title\n\nLead.\n\nContents\n1 A\n" + "2" + "0" * 5000 + " B\n\nA\nBody.\n"
    article = import_page_text(text, file_name="digits.txt")
    assert [s.heading for s in article.sections] == ["A"]
    assert any("table of contents line not understood" in w for w in article.source.warnings)  # type: ignore[union-attr]
