"""Split a paragraph into sentences without losing a single character.

``"".join(split_sentences(text)) == text`` always holds: whitespace after a
sentence end stays with the sentence it follows, so a paragraph can be rebuilt
from its claims exactly.

Rules, chosen for Japanese (the seed) and English (most wikitext):

* ``。！？`` end a sentence, together with any further terminators and closing
  brackets right after them (``。）``, ``！？``).
* ``. ! ?`` end a sentence only when whitespace follows and the next word does
  not start in lower case, and not after an abbreviation (``e.g.``, ``U.S.``,
  ``No. 5``, ``Dr.``), an initial (``L. Batalden``) or inside a number (``3.5``).
* ``. ! ?`` followed directly by a CJK character end a sentence too (mixed
  Japanese/English text rarely has a space there); ``．`` ends one unless it
  sits between digits (full-width decimals).
* After a dotted acronym (``U.S.``) a sentence ends only when a word that
  usually opens a sentence follows (``in the U.S. He left``).
* Nothing splits inside quotes or brackets: ``「」『』“”‘’()（）[]``. A quote that
  never closes is treated as plain text, so one stray mark cannot swallow a
  paragraph.
"""

from __future__ import annotations

import re

__all__ = ["ABBREVIATIONS", "SENTENCE_STARTERS", "split_sentences"]

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
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff「『（【]")
_ACRONYM = re.compile(r"[A-Z]\.[A-Z]\.")
#: Words that open a sentence far more often than they follow "U.S." inside one.
SENTENCE_STARTERS = frozenset(
    "he she it they we i the this that these those there in on at after before during however but "
    "his her its their a an as when while since".split()
)


def _matched_openers(text: str) -> dict[int, int]:
    """Map the index of each opening quote/bracket to the index of its closer.

    A closer closes the nearest open opener of its kind and drops the openers
    opened after it (they never closed). Each kind keeps the stack depths where
    it sits, so a closer finds its opener without scanning the stack: linear
    even for 100,000 unclosed ``(`` followed by as many stray ``」``.
    """
    closers = {v: k for k, v in _PAIRS.items()}
    stack: list[tuple[str, int]] = []
    depths: dict[str, list[int]] = {opener: [] for opener in _PAIRS}
    matched: dict[int, int] = {}
    for index, ch in enumerate(text):
        if ch in _PAIRS and not (ch == "‘" and stack and stack[-1][0] == "‘"):
            depths[ch].append(len(stack))
            stack.append((ch, index))
        elif ch in closers:
            same = depths[closers[ch]]
            if same:
                depth = same[-1]
                matched[stack[depth][1]] = index
                for opener, _ in stack[depth:]:
                    depths[opener].pop()
                del stack[depth:]
    return matched


class _Scanner:
    """The runs the splitter asks about, each scanned once (120 KB of "Mr. x " took 64 s before).

    The splitter used to find the word before a period with a regex anchored at
    the end but searched from the paragraph start, and re-walked runs of
    terminators and spaces at every period: quadratic. Queries come in
    increasing order, so remembering the last run answers each in amortised
    constant time, with exactly the old answers.
    """

    _WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")
    _TERMINATORS = frozenset(_LATIN_END + _CLOSERS)

    def __init__(self, text: str) -> None:
        self.text = text
        # [start, end) all word characters, text[start-1] is not; first: its first letter (or end if none)
        self._word: tuple[int, int, int] = (0, 0, 0)
        self._term: tuple[int, int] = (0, 0)  # [begin, end) all terminators/closers, text[end] is not
        self._space: tuple[int, int] = (0, 0)  # [begin, end) all whitespace, text[end] is not

    def word_before(self, end: int) -> tuple[int, int] | None:
        """Where the old ``[A-Za-z][A-Za-z.]*$`` search up to ``end`` matched: the ASCII word (dots allowed).

        A span, not a string: a word can be a 100 KB run of dots, and copying it
        at every period would be quadratic again.
        """
        text = self.text
        if end > 0 and text[end - 1] == "\n":
            end -= 1  # "$" also matches before a final newline; the class never holds one
        start, known, first = self._word
        if not (start <= known <= end and all(c in self._WORD_CHARS for c in text[known:end])):
            start = end
            while start > 0 and text[start - 1] in self._WORD_CHARS:
                start -= 1
            first = start
        if first == known or first == start:  # no letter found yet: keep looking, from where we stopped
            first = max(first, start)
            while first < end and text[first] == ".":
                first += 1
        self._word = (start, end, first)
        return (first, end) if first < end else None

    def after_terminators(self, begin: int) -> int:
        """The first index at or after ``begin`` that is not a terminator or closer."""
        lo, hi = self._term
        if not lo <= begin <= hi:
            hi = begin
            while hi < len(self.text) and self.text[hi] in self._TERMINATORS:
                hi += 1
            self._term = (begin, hi)
        return hi

    def after_spaces(self, begin: int) -> int:
        """The first index at or after ``begin`` that is not whitespace."""
        lo, hi = self._space
        if not lo <= begin <= hi:
            hi = begin
            while hi < len(self.text) and self.text[hi].isspace():
                hi += 1
            self._space = (begin, hi)
        return hi


#: The longest word in ABBREVIATIONS: longer words are not looked up (nor copied).
_LONGEST_ABBREVIATION = max(map(len, ABBREVIATIONS))


def _is_abbreviation(scanner: _Scanner, dot: int) -> bool:
    span = scanner.word_before(dot)
    if span is None:
        return False
    first, end = span
    # rfind, not find: in a run of periods the nearest one is right before the end.
    if scanner.text.rfind(".", first, end) != -1:  # U.S., e.g., i.e.
        return True
    if end - first == 1:
        return True
    return end - first <= _LONGEST_ABBREVIATION and scanner.text[first:end].lower() in ABBREVIATIONS


def _acronym_ends_sentence(scanner: _Scanner, dot: int, following_word: str) -> bool:
    # "(?:[A-Z]\.){2,}$" matches somewhere in the word exactly when its last four characters are "X.Y.".
    span = scanner.word_before(dot + 1)
    acronym = span is not None and bool(_ACRONYM.fullmatch(scanner.text[max(span[0], span[1] - 4):span[1]]))
    return acronym and following_word.lower() in SENTENCE_STARTERS


_LETTERS = re.compile(r"[A-Za-z]+")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences; joining the result gives ``text`` back exactly.

    Linear in ``len(text)``: every run of word characters, terminators and
    spaces is walked a bounded number of times (see :class:`_Scanner`).
    """
    if not text:
        return []
    matched = _matched_openers(text)
    scanner = _Scanner(text)
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
            nxt = scanner.after_terminators(index + 1)
            if nxt >= length:
                end = nxt
            elif _CJK_CHAR.match(text[nxt]) and not (ch == "." and _is_abbreviation(scanner, index)):
                end = nxt
            elif text[nxt].isspace():
                after = scanner.after_spaces(nxt)
                following = text[after] if after < length else ""
                starts_lower = following.islower() or (following.isdigit() and ch == ".")
                abbreviation = ch == "." and _is_abbreviation(scanner, index)
                if abbreviation and not starts_lower:
                    word = _LETTERS.match(text, after)
                    abbreviation = not (word and _acronym_ends_sentence(scanner, index, word.group(0)))
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
