"""Bytes to text: the declared charset first, then detection.

The order follows the WHATWG Encoding Standard's "decode" as browsers do it: a
byte order mark wins; then the charset of the HTTP ``Content-Type``; then the
page's own declaration (``<meta charset>``, ``<meta http-equiv>``, or an XML
declaration) in its first :data:`PRESCAN_BYTES`. A declaration that does not
decode the body is not trusted (servers mislabel pages): strict UTF-8 is tried,
then charset-normalizer guesses from at most :data:`DETECT_BYTES`, and as a last
resort UTF-8 with replacement characters.

Labels are mapped as browsers map them, because pages are written for browsers:
``Shift_JIS`` decodes as Windows-31J (``cp932``, which adds NEC and IBM
extensions real Japanese pages use), ``ISO-8859-1`` and ``US-ASCII`` as
``windows-1252``, ``GB2312`` and ``GBK`` as GB18030, ``EUC-KR`` as ``cp949``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum

import charset_normalizer

__all__ = ["DETECT_BYTES", "PRESCAN_BYTES", "Declared", "Decoded", "decode"]

#: The WHATWG prescan looks at the first 1,024 bytes; real pages put a long <head> of
#: scripts before their <meta charset>, so we look a little further.
PRESCAN_BYTES = 4096
#: charset-normalizer's time grows with the input. With 64 KiB it named the right family for 48
#: of chardet 5.2.0's 50 real Japanese feeds with their declarations stripped (Shift_JIS and
#: EUC-JP; one EUC-JP feed read as GB18030, one Shift_JIS feed undecided), median 1.4 ms CPU,
#: at most 19 ms.
DETECT_BYTES = 64 * 1024
#: A declared charset may leave this share of bytes undecodable (a stray byte in a
#: mislabelled footer) before we stop trusting it and detect instead.
MAX_BAD_SHARE = 0.001

#: Browser-compatible decoders for labels Python would decode more strictly or differently.
_WEB_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "csshiftjis": "cp932",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "x-euc-jp": "euc_jp",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""")


class Declared(StrEnum):
    """Where the charset we used came from."""

    BOM = "bom"
    HEADER = "header"
    DOCUMENT = "document"
    UTF8 = "utf-8"
    DETECTED = "detected"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Decoded:
    """A body as text, the Python codec that decoded it, and where that choice came from."""

    text: str
    encoding: str
    source: Declared


def codec_for(label: str) -> str | None:
    """The Python codec for a charset label as browsers read it, or ``None`` for an unknown label."""
    name = label.strip().lower()
    name = _WEB_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _declared(body: bytes, content_type: str | None) -> list[tuple[str, Declared]]:
    found: list[tuple[str, Declared]] = []
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        if header:
            found.append((header.group(1), Declared.HEADER))
    head = body[:PRESCAN_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        declared = pattern.search(head)
        if declared:
            found.append((declared.group(1).decode("ascii", "replace"), Declared.DOCUMENT))
    return found


def _try(body: bytes, codec: str) -> str | None:
    """``body`` decoded with ``codec`` if at most :data:`MAX_BAD_SHARE` of it is undecodable."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = body.decode(codec, "replace")
    if text.count("\ufffd") <= MAX_BAD_SHARE * len(body):
        return text
    return None


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page's ``body`` (see the module docstring for the order of evidence)."""
    for bom, by_bom in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom):].decode(by_bom, "replace"), by_bom, Declared.BOM)
    for label, source in _declared(body, content_type):
        codec = codec_for(label)
        if codec is None or codec.startswith("utf-16"):
            # A page that says UTF-16 without a BOM is lying: the declaration was readable as ASCII.
            continue
        decoded = _try(body, codec)
        if decoded is not None:
            return Decoded(decoded, codec, source)
    try:
        return Decoded(body.decode("utf-8"), "utf-8", Declared.UTF8)
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body[:DETECT_BYTES]).best()
    if best is not None:
        guessed = codec_for(best.encoding)
        if guessed is not None:
            detected = _try(body, guessed)
            if detected is not None:
                return Decoded(detected, guessed, Declared.DETECTED)
    return Decoded(body.decode("utf-8", "replace"), "utf-8", Declared.FALLBACK)
