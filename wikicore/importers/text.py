"""Import a wiki page saved as plain text (format name ``text``).

This is the shape of a page copied out of a browser, the way the seed article
``Azerbaijan–Russia relations`` arrived::

    <title>
    <blank lines>
    <URL-encoded page name, e.g. Azerbaijan%E2%80%93Russia_relations>   (optional)
    <lead paragraph>
    <infobox and image caption lines>
    <blank>
    コンテンツ | Contents                                            (the table of contents)
    1 歴史
    1.1 先史時代 1.2 独立後 ...                                       (subsections share a line)
    ...
    <blank>
    <heading>                                                         (each TOC entry, in order)
    <paragraphs, one per line; "image" lines followed by an indented caption>
    ...
    参考文献 | References: "^ " lines, a wrapped line continues the one before,
                          and " ^ " inside a line starts another reference
    外部リンク | External links

The importer keeps every character of the prose (a paragraph's claims join back
to its line exactly) and each reference's text in ``raw``. It invents nothing:
markers the copy lost (inline citations, URLs) stay absent, and everything it
could not determine is listed in ``source.warnings``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import unquote

from stdnum import isbn as stdnum_isbn

from ..errors import ImportFailed
from ..models import Article, Source, check_slug, slugify
from ..sentences import split_sentences
from ..serialize import article_from_data
from . import register

__all__ = ["import_page_text", "parse_reference"]

_TOC_HEADERS = {"コンテンツ", "目次", "Contents"}
_SEE_ALSO = {"も参照してください", "関連項目", "See also"}
_REFERENCES = {"参考文献", "脚注", "出典", "References", "Notes", "Citations", "Sources"}
_EXTERNAL = {"外部リンク", "External links"}

_PAGE_NAME = re.compile(r"^[A-Za-z0-9%_().,'!*~:-]+$")
_TOC_NUMBER = re.compile(r"(?:^|(?<=\s))(\d+(?:\.\d+)*)\s+")
_IMAGE_MARKER = re.compile(r'^(?:image|画像|File|ファイル)"?$', re.IGNORECASE)
_SENTENCE_END = tuple("。！？.!?」』”)）")
#: Digits in one part of a TOC number ("12" in "3.12"): beyond this it is a year or a figure, not a TOC entry.
_MAX_TOC_DIGITS = 6


@dataclass
class _Section:
    number: str
    heading: str
    lines: list[str] = field(default_factory=list)
    children: list[_Section] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "s-" + self.number.replace(".", "-")


def _parse_toc_line(line: str, expected: list[str]) -> list[tuple[str, str]] | None:
    """Split one TOC line into ``(number, heading)`` entries.

    A number only starts an entry when it is a plausible next TOC number (next
    sibling, first child, or next sibling of an ancestor), so a heading such as
    ``ロシアの武器は2008年に…`` is never cut at its year.
    """
    entries: list[tuple[str, str]] = []
    positions: list[tuple[int, int, str]] = []
    last = expected[-1] if expected else None
    for match in _TOC_NUMBER.finditer(line):
        number = match.group(1)
        if _follows(last, number):
            positions.append((match.start(1), match.end(), number))
            last = number
    if not positions or positions[0][0] != 0:
        return None
    for index, (_, text_start, number) in enumerate(positions):
        end = positions[index + 1][0] if index + 1 < len(positions) else len(line)
        entries.append((number, line[text_start:end].rstrip()))
    return entries


def _follows(previous: str | None, number: str) -> bool:
    if any(len(part) > _MAX_TOC_DIGITS for part in number.split(".")):
        return False  # no table of contents counts that far; int() would refuse 5,000 digits anyway
    parts = [int(p) for p in number.split(".")]
    if previous is None:
        return parts == [1]
    prev = [int(p) for p in previous.split(".")]
    if parts == [*prev, 1]:
        return True  # first child
    for depth in range(len(prev), 0, -1):
        if parts == [*prev[: depth - 1], prev[depth - 1] + 1]:
            return True  # next sibling of itself or of an ancestor
    return False


@dataclass
class _Parsed:
    fields: dict[str, Any]
    warnings: list[str]


_ISBN = re.compile(r"ISBN\s*([0-9][0-9Xx\- ]{8,20}[0-9Xx])")
_ACCESS_JA = re.compile(r"\s*取得した(\d{1,2})年(\d{1,2})月(\d{4})")
_VIA_JA = re.compile(r"\s*[–—-]\s*([^。–—]+?)経由。?")
_ARCHIVE_PATTERNS = (
    # "<title> アーカイブで2012年5月28日、ウェイバックマシン" (Archived 2012-05-28 at the Wayback Machine)
    re.compile(r"\s*アーカイブで(\d{4})年(\d{1,2})月(\d{1,2})日、ウェイバックマシン"),
    # "2011年11月17日、ウェイバックマシンでアーカイブされた<title>"
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日、ウェイバックマシンでアーカイブされた"),
    # "<title> 2015年1月19日にウェイバックマシンでアーカイブされた<author> <date>"
    re.compile(r"\s*(\d{4})年(\d{1,2})月(\d{1,2})日にウェイバックマシンでアーカイブされた"),
    re.compile(r"\s*Archived(?: from the original)? on (\d{4})-(\d{2})-(\d{2}) at the Wayback Machine\.?"),
)
_TRAILING_BYLINE = re.compile(r"\s+(\S+)\s+(\d{4})年(\d{1,2})月(\d{1,2})日$")
_BOOK = re.compile(
    r"^(?P<authors>[^()（）。「」“”]+?)\((?P<year>\d{4})\)。(?P<title>[^。]+)。(?P<publisher>[^。]+)"
    r"(?:。(?:頁|NS|pp?\.?)。\s*(?P<pages>[^。]+?)\.?)?$"
)
_RUN_TOGETHER = re.compile(
    r"^(?P<last>[^、。「」“”\s]+)、(?P<first>[\u30A0-\u30FF・]+)(?P<title>[^\u30A0-\u30FF。][^。]*)。(?P<publisher>[^。]+)。?$"
)
_QUOTED = re.compile(
    r"^(?P<authors>[^「“”]*?)[「“”]+(?P<title>.+?)[」”]+\s*。?\s*(?:(?P<work>[^。「」“”]+)。?)?\s*$"
)


def _iso(year: str, month: str, day: str) -> str | None:
    import datetime as dt

    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _split_authors(text: str) -> list[str]:
    """``Ebel、Robert、Menon、Rajan`` -> two authors; each keeps its own ``、``."""
    parts = [p for p in text.strip().split("、") if p]
    if len(parts) >= 2 and len(parts) % 2 == 0:
        return ["、".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    return [text.strip()] if text.strip() else []


def parse_reference(raw: str, ref_id: str) -> _Parsed:
    """Parse one machine-translated CS1 citation into reference fields.

    Only what the text states is filled in; the rest stays empty and a warning
    says what could not be determined.
    """
    warnings: list[str] = []
    fields: dict[str, Any] = {"raw": raw}
    text = re.sub(r"\s*\n\s*", " ", raw).strip()

    match = _ISBN.search(text)
    if match:
        digits = re.sub(r"[\s-]", "", match.group(1))
        try:
            fields["isbn"] = stdnum_isbn.to_isbn13(stdnum_isbn.validate(digits))
        except Exception:  # stdnum raises its own ValidationError subclasses
            fields["isbn"] = digits
            warnings.append(f"{ref_id}: ISBN {match.group(1)!r} fails its checksum; kept as written")
        text = (text[: match.start()] + text[match.end() :]).strip()
    match = _ACCESS_JA.search(text)
    if match:
        day, month, year = match.groups()
        fields["access_date"] = _iso(year, month, day)
        text = (text[: match.start()] + text[match.end() :]).strip()
    match = _VIA_JA.search(text)
    if match:
        fields["via"] = match.group(1).strip()
        text = (text[: match.start()] + text[match.end() :]).strip()
    for pattern in _ARCHIVE_PATTERNS:
        match = pattern.search(text)
        if match:
            fields["archive_date"] = _iso(*match.groups())
            text = (text[: match.start()] + " " + text[match.end() :]).strip()
            warnings.append(
                f"{ref_id}: archived at the Wayback Machine on {fields['archive_date']}, "
                "but the input kept neither the url nor the archive link"
            )
            break
    if "archive_date" in fields:
        match = _TRAILING_BYLINE.search(text)
        if match:
            fields["authors"] = [match.group(1)]
            fields["date"] = _iso(*match.groups()[1:])
            text = text[: match.start()].strip()
    text = text.rstrip("。 ").strip()

    if match := _BOOK.match(text):
        fields.update(
            type="book",
            authors=_split_authors(match["authors"]),
            date=match["year"],
            title=match["title"],
            publisher=match["publisher"],
        )
        if match["pages"]:
            fields["pages"] = match["pages"].strip()
    elif match := _RUN_TOGETHER.match(text + "。"):
        fields.update(
            type="book" if "isbn" in fields else "other",
            authors=[f"{match['last']}、{match['first']}"],
            title=match["title"],
            publisher=match["publisher"],
        )
        warnings.append(
            f"{ref_id}: author and title ran together; split where katakana gives way to kanji "
            f"({match['last']}、{match['first']} | {match['title']})"
        )
    elif match := _QUOTED.match(text):
        fields["title"] = match["title"].strip()
        if match["authors"] and match["authors"].strip():
            fields["authors"] = _split_authors(match["authors"])
        if match["work"]:
            fields["work"] = match["work"].strip()
        fields["type"] = "news" if match["work"] else "web"
    elif text:
        fields["title"] = text
        fields["type"] = "web" if "archive_date" in fields else "other"
        if "archive_date" not in fields:
            warnings.append(f"{ref_id}: no recognisable citation structure; its whole text is kept as the title")
    if "isbn" in fields and fields.get("type") not in ("book",):
        fields["type"] = "book"
    return _Parsed({k: v for k, v in fields.items() if v not in (None, [], "")}, warnings)


def _split_refs(lines: list[str]) -> list[str]:
    """Reference texts from ``^`` lines: wrapped lines continue; `` ^ `` starts another."""
    refs: list[str] = []
    for line in lines:
        if line.startswith("^"):
            parts = re.split(r" \^ ", line[1:])
            refs.extend(part.removeprefix(" ") for part in parts)
        elif refs:
            refs[-1] += "\n" + line
        elif line.strip():
            refs.append(line)
    return refs


def _paragraph(line: str) -> dict[str, Any]:
    return {"claims": [{"text": sentence} for sentence in split_sentences(line)]}


def _media_and_paragraphs(lines: list[str], section_id: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Separate image blocks (a marker line, then an indented caption) from paragraphs.

    A caption runs on to the next line while its line ends with a comma: that is
    how the copy wrapped ``ウラジーミル・プーチン、/マフムード・…、/イルハム・アリエフ。``.
    """
    media: list[dict[str, Any]] = []
    paragraphs: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _IMAGE_MARKER.match(line.strip()) and index + 1 < len(lines) and lines[index + 1][:1].isspace():
            caption = [lines[index + 1]]
            index += 2
            while caption[-1].rstrip().endswith(("、", ",")) and index < len(lines):
                caption.append(lines[index])
                index += 1
            text = "\n".join(caption)
            media.append(
                {"kind": "image", "caption": text.strip(), "section": section_id, "raw": f"{line}\n{text}"}
            )
            continue
        if line.strip():
            paragraphs.append(line)
        index += 1
    return media, paragraphs


@register("text")
def import_page_text(text: str, *, slug: str | None = None, file_name: str | None = None) -> Article:
    """Import a page saved as plain text; see the module docstring for the shape."""
    lines = text.replace("\r\n", "\n").split("\n")
    warnings: list[str] = []
    position = 0
    while position < len(lines) and not lines[position].strip():
        position += 1
    if position >= len(lines):
        raise ImportFailed(f"{file_name or 'input'}: empty: no title line")
    title = lines[position].strip()
    position += 1
    while position < len(lines) and not lines[position].strip():
        position += 1

    aliases: list[str] = []
    page_name: str | None = None
    candidate = lines[position] if position < len(lines) else ""
    if _PAGE_NAME.match(candidate) and ("%" in candidate or "_" in candidate):
        page_name = lines[position]
        alias = unicodedata.normalize("NFC", unquote(page_name, errors="strict").replace("_", " "))
        if alias != title:
            aliases.append(alias)
        position += 1

    # Top block: the lead paragraph, then infobox and caption lines, up to a blank line.
    top: list[str] = []
    while position < len(lines) and lines[position].strip():
        top.append(lines[position])
        position += 1
    while position < len(lines) and not lines[position].strip():
        position += 1

    toc: list[tuple[str, str]] = []
    if position < len(lines) and lines[position].strip() in _TOC_HEADERS:
        position += 1
        while position < len(lines) and lines[position].strip():
            # Only the last number matters; passing every number made a 16,000-entry TOC quadratic.
            entries = _parse_toc_line(lines[position].strip(), [toc[-1][0]] if toc else [])
            if entries is None:
                warnings.append(f"line {position + 1}: table of contents line not understood; kept as a paragraph")
                break
            toc.extend(entries)
            position += 1
    else:
        warnings.append("no table of contents: the body is imported as lead paragraphs")

    # The body: headings appear in TOC order; everything between them belongs to the one before.
    sections: dict[str, _Section] = {n: _Section(n, h) for n, h in toc}
    current: _Section | None = None
    body_lead: list[str] = []
    pending = deque(toc)  # popped from the left once per heading: a list made this quadratic
    for line in lines[position:]:
        if pending and line.strip() == pending[0][1]:
            current = sections[pending.popleft()[0]]
            continue
        if current is None:
            body_lead.append(line)
        else:
            current.lines.append(line)
    for number, heading in pending:
        warnings.append(f"section {number} {heading!r} is in the table of contents but not in the body")

    roots: list[_Section] = []
    for number, section in sections.items():
        parent = number.rpartition(".")[0]
        (sections[parent].children if parent in sections else roots).append(section)

    lead_lines = top[:1] + [line for line in body_lead if line.strip()]
    media: list[dict[str, Any]] = []
    if len(top) > 1:
        media.append({"kind": "infobox", "caption": "\n".join(top[1:]), "raw": "\n".join(top[1:])})
        warnings.append(
            f"the infobox and image captions under the lead ({len(top) - 1} lines) are kept whole as one "
            "media item: the copy does not mark where one caption ends and the next begins"
        )

    see_also: list[str] = []
    external: list[dict[str, Any]] = []
    ref_lines: list[str] = []
    truncated: list[str] = []

    def build(section: _Section) -> dict[str, Any] | None:
        heading = section.heading.strip()
        if heading in _SEE_ALSO:
            see_also.extend(line.strip() for line in section.lines if line.strip())
            return None
        if heading in _REFERENCES:
            ref_lines.extend(line for line in section.lines if line.strip())
            return None
        if heading in _EXTERNAL:
            external.extend({"title": line.strip()} for line in section.lines if line.strip())
            return None
        found, paragraphs = _media_and_paragraphs(section.lines, section.id)
        media.extend(found)
        for paragraph in paragraphs:
            if not paragraph.rstrip().endswith(_SENTENCE_END):
                truncated.append(f"{heading!r}")
        children = [c for c in (build(child) for child in section.children) if c is not None]
        return {
            "id": section.id,
            "heading": section.heading,
            "paragraphs": [_paragraph(p) for p in paragraphs],
            "sections": children,
        }

    built = [s for s in (build(root) for root in roots) if s is not None]
    for paragraph in lead_lines:
        if not paragraph.rstrip().endswith(_SENTENCE_END):
            truncated.insert(0, "the lead")

    references: list[dict[str, Any]] = []
    for index, raw in enumerate(_split_refs(ref_lines), start=1):
        parsed = parse_reference(raw, f"ref-{index}")
        references.append({"id": f"ref-{index}", **parsed.fields})
        warnings.extend(parsed.warnings)

    if references:
        warnings.insert(0, "no claim cites a reference: the input lost its inline citation markers")
        without_url = sum(1 for r in references if not r.get("url"))
        if without_url:
            warnings.insert(1, f"{without_url} of {len(references)} references have no url: the input kept none")
    for where in truncated:
        warnings.append(f"a paragraph in {where} ends mid-sentence: text was probably lost in the copy")

    language = "ja" if re.search(r"[\u3040-\u30ff]", text) else None
    try:
        final_slug = check_slug(slug) if slug else slugify(aliases[0] if aliases else title)
    except ValueError as exc:
        raise ImportFailed(f"{file_name or 'input'}: {exc}") from None
    data = {
        "slug": final_slug,
        "title": title,
        "language": language,
        "aliases": aliases,
        "lead": [_paragraph(line) for line in lead_lines],
        "sections": built,
        "references": references,
        "see_also": see_also,
        "external_links": external,
        "media": media,
        "source": Source(
            format="text",
            file=PurePath(file_name).name if file_name else None,
            page_name=page_name,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            warnings=warnings,
        ),
    }
    return article_from_data(data, source=file_name)
