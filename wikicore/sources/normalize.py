"""One normal form for comparing a quote with a page: what a reader would call "the same words".

:func:`normalize` folds what differs between a quote typed into a citation and
the text of the page it came from, and nothing else:

* Unicode NFKC (UAX #15): full- and half-width forms (``Ａ１`` → ``A1``, ``ｶ`` →
  ``カ``), ligatures (``ﬁ``), the one-character ellipsis (``…`` → ``...``), the
  no-break space;
* typographic quotes and apostrophes to ``'`` and ``"``, every dash and the minus
  sign to ``-``;
* soft hyphens, zero-width spaces and joiners, the BOM and pdfium's hyphen marks
  are removed (a PDF's line-end hyphens are joined where its text is read:
  :mod:`wikicore.sources.extract`);
* case (``str.casefold``), and every run of whitespace becomes one space, except
  between two CJK characters, where it is removed: a line break in Japanese or
  Chinese text is not a word space (CSS Text Level 3, segment break transformation
  rules), and vertical text in a PDF comes out one character per line.

HTML entities are undone in the quote (a quote copied from wikitext may hold
``&amp;``); the page text is already unescaped by its HTML parser.

:class:`NormalText` keeps enough of the original to map an offset in the
normal form back to the original text: the text is normalised in chunks of
about :data:`CHUNK_CHARS` characters cut at whitespace, so the mapping is exact
at chunk starts and, within one chunk, refined character by character only for
the one match that is reported.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["CHUNK_CHARS", "NormalText", "normalize", "normalize_quote", "tokens"]

#: Chunk size for :class:`NormalText`. Per-character work happens only inside the chunk
#: holding a reported match: 1,024 characters is about 0.1 ms of Python per offset, while
#: the chunk table for a 1 MiB page stays at 1,024 entries.
CHUNK_CHARS = 1024

_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u02bb\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\u301f"
# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus,
# small em dash, hyphen bullet; U+30FC (the katakana long vowel mark) is a letter and stays.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\u2043"
# Soft hyphen, zero-width space / non-joiner / joiner, word joiner, BOM; pdfium marks a
# hyphen it inserted at a line end with U+0002 or U+FFFE.
_DROP = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0002\ufffe"

# Chunks are cut after whitespace and before a character that survives folding, so that
# no chunk starts with a space and the whole text's normal form is the chunks' forms joined.
_CHUNK_CUT = re.compile(f"\\s+(?=[^\\s{_DROP}])")

_TABLE: dict[int, str | None] = {
    **{ord(c): "'" for c in _QUOTES},
    **{ord(c): '"' for c in _DOUBLE_QUOTES},
    **{ord(c): "-" for c in _DASHES},
    **{ord(c): None for c in _DROP},
}
_SPACE = re.compile(r"\s+")

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORDS = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
# Kana, CJK ideographs and the ideographic punctuation that stays CJK after NFKC; not
# Hangul: Korean puts spaces between words.
_CJK_CLASS = "[\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_CJK_SPACE = re.compile(f"(?<={_CJK_CLASS}) (?={_CJK_CLASS})")
_CJK_CHAR = re.compile(_CJK_CLASS)


def _fold(text: str) -> str:
    """NFKC, the translation table and case; whitespace left as it is."""
    return unicodedata.normalize("NFKC", text).translate(_TABLE).casefold()


def _spaces(folded: str) -> str:
    """Whitespace runs to one space, none between two CJK characters."""
    return _CJK_SPACE.sub("", _SPACE.sub(" ", folded))


def normalize(text: str) -> str:
    """The normal form of ``text`` (see the module docstring); leading and trailing space removed."""
    return _spaces(_fold(text)).strip()


def normalize_quote(quote: str) -> str:
    """The normal form of a citation's quote: HTML entities undone, then :func:`normalize`."""
    return normalize(html.unescape(quote))


def tokens(normal: str) -> list[str]:
    """The words of a normalised text; each CJK character counts as one word (no spaces to split on)."""
    return _WORDS.findall(normal)


@dataclass(frozen=True)
class NormalText:
    """A text and its normal form, with the chunk table that maps normal offsets back.

    ``starts[i]`` is where chunk ``i`` begins in :attr:`text` (the normal form) and
    ``origins[i]`` where it begins in :attr:`original`.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    origins: tuple[int, ...]

    @classmethod
    def of(cls, original: str) -> NormalText:
        """Normalise ``original`` chunk by chunk (cut after whitespace, never inside a word)."""
        pieces: list[str] = []
        starts: list[int] = []
        origins: list[int] = []
        at = 0
        length = 0
        while at < len(original):
            end = len(original)
            if end - at > CHUNK_CHARS:
                cut = _CHUNK_CUT.search(original, at + CHUNK_CHARS)
                end = cut.end() if cut else end
            piece = _spaces(_fold(original[at:end]))
            if (piece.endswith(" ") and end < len(original) and len(piece) > 1
                    and _CJK_CHAR.match(piece[-2]) and _CJK_CHAR.match(_fold(original[end : end + 8]))):
                # The chunk was cut between two CJK characters: that space is not in the whole text's form.
                piece = piece[:-1]
            starts.append(length)
            origins.append(at)
            pieces.append(piece)
            length += len(piece)
            at = end
        return cls(original, "".join(pieces), tuple(starts), tuple(origins))

    def to_original(self, offset: int) -> int:
        """The offset in :attr:`original` of the character at ``offset`` in :attr:`text`."""
        if not self.starts:
            return 0
        chunk = max(0, bisect.bisect_right(self.starts, offset) - 1)
        origin = self.origins[chunk]
        end = self.origins[chunk + 1] if chunk + 1 < len(self.origins) else len(self.original)
        want = offset - self.starts[chunk]
        # Walk the chunk one character at a time; each character folds alone, and a run of
        # whitespace counts once (not at all between CJK characters), as in the chunk's normal form.
        made = 0
        previous_space = False
        last = ""
        for index in range(origin, end):
            char = self.original[index]
            if char.isspace():
                if previous_space:
                    continue
                previous_space = True
                following = self.original[index : index + 64].lstrip()[:1]
                cjk = bool(last) and bool(_CJK_CHAR.match(last)) and bool(_CJK_CHAR.match(following))
                width = 0 if cjk else 1
            else:
                previous_space = False
                last = char
                # ASCII folds to one character (case and the backtick only); the rest folds alone.
                width = 1 if char < "\x80" else len(_fold(char))
            if made + width > want:
                return index
            made += width
        return end
