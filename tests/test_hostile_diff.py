"""Hostile inputs against the differ (a crafted edit must not stall a diff): the inline diff stays within its budget.

Work is asserted, not time: every difflib.SequenceMatcher the differ builds is
recorded (a subclass that notes the sizes it was given, doing the real work),
and no comparison may exceed ``DIFF_MAX_CELLS``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from wikicore import diff as diff_module
from wikicore.diff import DIFF_MAX_CELLS, SegmentOp, diff_articles, inline_diff
from wikicore.models import Article


class _Recording(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """The real matcher, noting the largest len(a) * len(b) it is asked to compare."""

    largest = 0

    def get_opcodes(self) -> Any:
        _Recording.largest = max(_Recording.largest, len(self.a) * len(self.b))
        return super().get_opcodes()

    def ratio(self) -> float:
        _Recording.largest = max(_Recording.largest, len(self.a) * len(self.b))
        return super().ratio()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Recording]]:
    monkeypatch.setattr(diff_module.difflib, "SequenceMatcher", _Recording)
    _Recording.largest = 0
    yield _Recording


def _sides(segments: Sequence[Any]) -> tuple[str, str]:
    old = "".join(s.text for s in segments if s.op != SegmentOp.INSERT)
    new = "".join(s.text for s in segments if s.op != SegmentOp.DELETE)
    return old, new


def _long_claim(words: int = 24_000) -> list[str]:
    return [f"w{i % 97} " for i in range(words)]  # repetitive: difflib's worst case


def test_a_94_kb_claim_with_one_word_changed_is_diffed_within_budget(recorded: type[_Recording]) -> None:
    """This took 107 s; now the common prefix and suffix are kept and only the word compared."""
    words = _long_claim()
    old = "".join(words)
    new = "".join([*words[:12000], "changed ", *words[12001:]])
    assert len(old) > 90_000
    segments = inline_diff(old, new)
    assert _sides(segments) == (old, new)
    assert [s.op for s in segments] == ["equal", "delete", "insert", "equal"]
    assert (segments[1].text, segments[2].text) == (words[12000].strip(), "changed")
    assert 0 < recorded.largest <= DIFF_MAX_CELLS


def test_changes_everywhere_fall_back_to_lines_then_a_whole_replacement(recorded: type[_Recording]) -> None:
    words = _long_claim()
    old = "".join(words)
    new = "".join(w.upper() for w in words)  # every word differs: no common prefix or suffix to drop
    segments = inline_diff(old, new)
    assert _sides(segments) == (old, new)
    assert recorded.largest <= DIFF_MAX_CELLS
    # 600 lines of 40 words, one word changed on each of about a sixth of them: too many words, few lines.
    lines_old = "\n".join("".join(words[i:i + 40]) for i in range(0, len(words), 40))
    lines_new = lines_old.replace("w1 ", "W1 ")
    segments = inline_diff(lines_old, lines_new)
    assert _sides(segments) == (lines_old, lines_new)
    assert sum(s.op == SegmentOp.EQUAL for s in segments) > 50  # line-level: unchanged lines are kept
    assert recorded.largest <= DIFF_MAX_CELLS


def test_small_claims_keep_the_word_level_diff() -> None:
    segments = inline_diff("The cat sat on the mat.", "The dog sat on the mat.")
    assert [(s.op, s.text) for s in segments] == [("equal", "The "), ("delete", "cat"), ("insert", "dog"),
                                                  ("equal", " sat on the mat.")]


def test_pairing_long_claims_under_new_ids_stays_within_budget(recorded: type[_Recording]) -> None:
    """A re-import minted new ids: claims pair by text similarity, which was quadratic per pair."""
    words = _long_claim()
    old_text = "".join(words).strip()
    new_text = "".join([*words[:12000], "changed ", *words[12001:]]).strip()

    def article(cid: str, text: str) -> Article:
        return Article.model_validate({"slug": "a", "title": "A", "lead": [{"claims": [{"id": cid, "text": text}]}]})

    result = diff_articles(article("c-old", old_text), article("c-new", new_text))
    assert len(result.claims) == 1
    change = result.claims[0]
    assert change.kind == "changed" and change.old_id == "c-old" and change.similarity is not None
    assert change.similarity > 0.99
    assert recorded.largest <= DIFF_MAX_CELLS
