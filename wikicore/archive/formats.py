"""What archives answer, parsed: no I/O here, so every parser can be fed recorded real bytes.

* **CDX** in the four shapes met in the wild: the Internet Archive's default
  7-field text (``urlkey timestamp original mimetype statuscode digest
  length``) and its ``output=json`` (an array of arrays whose first row names
  the fields); pywb's CDXJ (``urlkey timestamp {json}``, its default) and its
  ``output=json`` (NDJSON: one object a line, with ``url``/``status`` or
  ``original``/``statuscode``). :func:`parse_cdx` tells them apart line by line,
  skipping what it cannot read: one bad row must not hide the good ones.
* **Link headers and TimeMaps** (RFC 8288 links; RFC 7089 ``application/link-format``):
  :func:`parse_links` reads both, with commas and semicolons inside quoted
  values and angle brackets, multi-token ``rel`` values (``"prev first memento"``),
  protocol-relative targets (the UK Web Archive writes ``<//www.webarchive...>``)
  and ``datetime`` attributes.
* **The availability API**'s ``closest`` record and **Memento-Datetime** values.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from waybackpy.cdx_snapshot import CDXSnapshot

from ..urls import parse_wayback_timestamp

__all__ = [
    "CdxRow",
    "Link",
    "http_date",
    "load_json",
    "parse_availability",
    "parse_cdx",
    "parse_cdx_lines",
    "parse_links",
    "parse_memento_datetime",
    "status_of",
]

_CDX_TEXT_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


@dataclass(frozen=True)
class CdxRow:
    """One capture as a CDX server lists it, whatever the format it came in."""

    timestamp: datetime
    original: str
    status: int | None
    mimetype: str | None = None


def load_json(data: str | bytes) -> Any:
    """A JSON document, with every way it can be unreadable raised as ValueError.

    Nesting deeper than the interpreter's recursion limit (100,000 ``[`` in a
    300 KB answer) raises RecursionError from :func:`json.loads`; to a caller it
    is one more malformed answer, not an internal error.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def status_of(value: Any) -> int | None:
    """A recorded HTTP status (``"200"``, ``200``, ``"-"``) as an int in 100-599, or None."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 3):
        return None
    code = int(text)
    return code if 100 <= code <= 599 else None


def _row(timestamp: Any, original: Any, status: Any, mimetype: Any = None) -> CdxRow | None:
    if not isinstance(timestamp, str) or not isinstance(original, str) or not original:
        return None
    when = parse_wayback_timestamp(timestamp)
    if when is None:
        return None
    return CdxRow(when, original, status_of(status), mimetype if isinstance(mimetype, str) else None)


def _from_mapping(item: dict[str, Any], timestamp: Any = None) -> CdxRow | None:
    return _row(
        item.get("timestamp", timestamp),
        item.get("original", item.get("url")),
        item.get("statuscode", item.get("status")),
        item.get("mimetype", item.get("mime")),
    )


def parse_cdx(text: str) -> list[CdxRow]:
    """Every readable capture of a CDX answer in any of the four formats (see the module doc)."""
    body = text.strip()
    if not body:
        return []
    if body.startswith("["):
        return _parse_json_table(body)
    rows: list[CdxRow] = []
    for line in body.splitlines():
        row = _parse_line(line.strip())
        if row is not None:
            rows.append(row)
    return rows


def _parse_json_table(body: str) -> list[CdxRow]:
    try:
        table = load_json(body)
    except ValueError:
        return []
    if not isinstance(table, list) or not table or not isinstance(table[0], list):
        return []
    header = [str(name) for name in table[0]]
    rows: list[CdxRow] = []
    for values in table[1:]:
        if isinstance(values, list) and len(values) == len(header):
            row = _from_mapping(dict(zip(header, values, strict=True)))
            if row is not None:
                rows.append(row)
    return rows


def _parse_line(line: str) -> CdxRow | None:
    if not line:
        return None
    if line.startswith("{"):  # NDJSON (pywb's output=json)
        try:
            item = load_json(line)
        except ValueError:
            return None
        return _from_mapping(item) if isinstance(item, dict) else None
    parts = line.split(" ", 2)
    if len(parts) == 3 and parts[2].startswith("{"):  # CDXJ: urlkey timestamp {json}
        try:
            item = load_json(parts[2])
        except ValueError:
            return None
        return _from_mapping(item, parts[1]) if isinstance(item, dict) else None
    fields = line.split(" ")
    if len(fields) == 7:  # IA's default text
        return _row(fields[1], fields[2], fields[4], fields[3])
    if len(fields) >= 11:  # classic 11-field CDX (CDX N b a m s k r M S V g), as older servers write
        return _row(fields[1], fields[2], fields[4], fields[3])
    return None


def parse_cdx_lines(text: str) -> list[CDXSnapshot]:
    """The 7-field text lines of a CDX answer as waybackpy's ``CDXSnapshot`` records (kept for callers of 0.1)."""
    rows: list[CDXSnapshot] = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) != 7 or not fields[1].isdigit() or len(fields[1]) != 14:
            continue
        try:
            rows.append(CDXSnapshot(dict(zip(_CDX_TEXT_FIELDS, fields, strict=True))))
        except ValueError:
            continue
    return rows


# --- Link headers and TimeMaps -------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One link of a Link header or TimeMap: its target, ``rel`` tokens and ``datetime``."""

    target: str
    rels: frozenset[str]
    datetime: datetime | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def is_memento(self) -> bool:
        """Whether the link names a memento (``memento``, ``first memento``, ``prev memento``...)."""
        return "memento" in self.rels


# Every branch consumes what it looks at and none can fail after scanning far
# (possessive quantifiers, an unterminated ``<`` or quote running to the end), so
# one pass over an answer is linear: with ``<[^>]*>`` every ``<`` without a ``>``
# rescanned to the end, and 300 KB of ``<a `` took minutes (8 MiB, the answer
# cap, hours).
_SPACE = re.compile(r"\s*+")
_TOKEN = re.compile(
    r"<(?P<target>[^>]*+)(?P<close>>?)"  # <target>, or an unterminated '<' that ends the list
    r"|(?P<sep>[;,])"  # separators
    r'|(?P<attr>[^=;,\s]++)\s*+(?:=\s*+(?:"(?P<quoted>(?:[^"\\]|\\[\s\S]?)*+)"?|(?P<value>[^;,\s]*+)))?'  # name[=value]
)


def _links(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(target, attributes) pairs in one linear pass; tolerant of stray separators and whitespace.

    An unterminated ``<`` or quoted value is the end of what can be read: the
    links before it are kept.
    """
    target: str | None = None
    attributes: dict[str, str] = {}
    position = 0
    length = len(text)
    while True:
        space = _SPACE.match(text, position)
        position = space.end() if space else position
        if position >= length:
            break
        match = _TOKEN.match(text, position)
        if match is None:
            position += 1  # an unreadable character ('='): skip it rather than loop
            continue
        position = match.end()
        if match["target"] is not None:
            if not match["close"]:
                break
            if target is not None:
                yield target, attributes
            target, attributes = match["target"].strip(), {}
        elif match["attr"] is not None and target is not None:
            quoted = match["quoted"]
            value = re.sub(r"\\([\s\S])", r"\1", quoted) if quoted is not None else match["value"] or ""
            attributes.setdefault(match["attr"].lower(), value)
    if target is not None:
        yield target, attributes


def parse_links(text: str, base: str | None = None) -> list[Link]:
    """The links of a ``Link`` header or an ``application/link-format`` TimeMap.

    Targets are made absolute against ``base`` (a protocol-relative ``//host/...``
    gets https without one); ``datetime`` values are read as HTTP dates.
    """
    links: list[Link] = []
    for target, attributes in _links(text):
        absolute = urljoin(base, target) if base else ("https:" + target if target.startswith("//") else target)
        rels = frozenset(attributes.get("rel", "").lower().split())
        links.append(
            Link(absolute, rels, http_date(attributes.get("datetime")), tuple(sorted(attributes.items())))
        )
    return links


# --- dates ------------------------------------------------------------------------------


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (``Sun, 26 Jan 2014 09:37:43 GMT``) as aware UTC, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
        # Converting can overflow too: 9999-12-31 23:30 at -0100 is past datetime.max in UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_memento_datetime(value: str | None) -> datetime | None:
    """A ``Memento-Datetime`` header (RFC 7089 §2.1.1): the capture time, aware UTC."""
    return http_date(value)


def parse_availability(payload: Any) -> dict[str, Any] | None:
    """The ``closest`` record of one availability answer, or None when there is none."""
    if not isinstance(payload, dict):
        return None
    snapshots = payload.get("archived_snapshots")
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is False:
        return None
    if not isinstance(closest.get("timestamp"), str) or not isinstance(closest.get("url"), str):
        return None
    return closest
