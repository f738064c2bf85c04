"""The sentence splitter as it was before it was made linear: the reference the new one must equal.

Kept verbatim (quadratic on hostile input, fine on the short texts Hypothesis draws)
so tests/test_sentences.py can check that the linear splitter gives exactly the
same sentences, and stored articles keep their claims.
"""
from __future__ import annotations

import re

#: Words that end with a period without ending the sentence (compared case-insensitively).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st sr jr mt ft no nos vol vols p pp ed eds fig figs approx ca cf
    vs inc ltd co corp gen col lt sgt rev hon gov sen rep dept univ jan feb mar apr jun jul aug
    sep sept oct nov dec est op al
    """.split()
)

_CJK_END = "。！？｡．"
_LATIN_END = ".!?"
_CLOSERS = "」』”’)）]］】〕》〉\"'"
_PAIRS = {"「": "」", "『": "』", "“": "”", "‘": "’", "(": ")", "（": "）", "[": "]", "［": "］", "【": "】"}
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff「『（【]")
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}$")
#: Words that open a sentence far more often than they follow "U.S." inside one.
SENTENCE_STARTERS = frozenset(
    "he she it they we i the this that these those there in on at after before during however but "
    "his her its their a an as when while since".split()
)


def _matched_openers(text: str) -> dict[int, int]:
    """Map the index of each opening quote/bracket to the index of its closer."""
    closers = {v: k for k, v in _PAIRS.items()}
    stack: list[tuple[str, int]] = []
    matched: dict[int, int] = {}
    for index, ch in enumerate(text):
        if ch in _PAIRS and not (ch == "‘" and stack and stack[-1][0] == "‘"):
            stack.append((ch, index))
        elif ch in closers:
            opener = closers[ch]
            # Close the nearest matching opener; openers in between never closed.
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == opener:
                    matched[stack[depth][1]] = index
                    del stack[depth:]
                    break
    return matched


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, dot)
    if not match:
        return False
    word = match.group(1)
    if "." in word:  # U.S., e.g., i.e.
        return True
    return len(word) == 1 or word.lower() in ABBREVIATIONS


def _acronym_ends_sentence(text: str, dot: int, following_word: str) -> bool:
    match = _WORD_BEFORE.search(text, 0, dot + 1)
    return bool(match and _ACRONYM.search(match.group(1))) and following_word.lower() in SENTENCE_STARTERS


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences; joining the result gives ``text`` back exactly."""
    if not text:
        return []
    matched = _matched_openers(text)
    sentences: list[str] = []
    start = 0
    index = 0
    length = len(text)
    while index < length:
        if index in matched:
            index = matched[index] + 1  # skip over the quoted or bracketed span
            continue
        ch = text[index]
        end: int | None = None
        if ch in _CJK_END:
            if not (ch == "．" and 0 < index < length - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()):
                end = index + 1
        elif ch in _LATIN_END:
            nxt = index + 1
            while nxt < length and text[nxt] in _LATIN_END + _CLOSERS:
                nxt += 1
            if nxt >= length:
                end = nxt
            elif _CJK_CHAR.match(text[nxt]) and not (ch == "." and _is_abbreviation(text, index)):
                end = nxt
            elif text[nxt].isspace():
                after = nxt
                while after < length and text[after].isspace():
                    after += 1
                following = text[after] if after < length else ""
                starts_lower = following.islower() or (following.isdigit() and ch == ".")
                abbreviation = ch == "." and _is_abbreviation(text, index)
                if abbreviation and not starts_lower:
                    word = re.match(r"[A-Za-z]+", text[after:])
                    abbreviation = not (word and _acronym_ends_sentence(text, index, word.group(0)))
                if not starts_lower and not abbreviation:
                    end = nxt
        if end is None:
            index += 1
            continue
        # Absorb further terminators and closers, then the whitespace after them.
        while end < length and text[end] in _CJK_END + _LATIN_END + _CLOSERS:
            end += 1
        while end < length and text[end].isspace():
            end += 1
        sentences.append(text[start:end])
        start = index = end
    if start < length:
        sentences.append(text[start:])
    return sentences
