"""Read a MediaWiki XML export (a dump): one revision at a time, within fixed budgets.

The dump is streamed: :func:`xml.etree.ElementTree.iterparse` hands us one
``<revision>`` at a time and every element is cleared once read, so memory
stays flat whatever the dump's size; ``.bz2`` dumps are decompressed on the fly.
Tags are matched by local name, so export-0.10 and export-0.11 (and older)
namespaces all work.

This module never touches git nor parses wikitext: a scan reads dumps through
it without loading the store, and :mod:`.dumpimport` writes what it yields
into a wiki. A dump is untrusted input: the byte, element and expansion
budgets below refuse compression bombs and element floods before they take
the machine's memory.
"""

from __future__ import annotations

import bz2
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import BudgetExceeded, ImportFailed

__all__ = ["MAX_EXPANSION", "MAX_REVISION_ELEMENTS", "MAX_REVISION_XML_BYTES", "DumpRevision", "iter_dump",
           "open_dump"]


@dataclass(frozen=True)
class DumpRevision:
    """One ``<revision>`` of a page, as read from the dump."""

    title: str
    namespace: int
    page_redirect: str | None
    id: str
    timestamp: str
    user: str
    comment: str
    text: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(elem: ET.Element, name: str) -> str | None:
    for child in elem:
        if _local(child.tag) == name:
            return child.text or ""
    return None


# --- parsing budgets: a dump is untrusted input, read within fixed bounds --------------------

#: Most XML one revision (with its page's header) may take, decompressed. A revision's text is at
#: most MAX_BYTES (10 MiB) of wikitext, and XML escaping can make that a few times longer; a 1 KB
#: .bz2 holding one 1 GiB <text> took import-dump to 2.1 GB of memory before this cap.
MAX_REVISION_XML_BYTES = 64 * 1024 * 1024
#: Most elements one revision (with its page's header) may hold. A real revision has about a dozen
#: (id, timestamp, contributor, comment, text...); 10 million empty elements in one page took 0.9 GB.
MAX_REVISION_ELEMENTS = 10_000
#: A compressed dump may not expand more than this many times (checked once past the floor below).
#: Real dumps expand 4-5x (pages-articles) to a few tens (full history, bz2); a bz2 bomb, ~10^6.
MAX_EXPANSION = 1_000
#: The expansion check starts after this many decompressed bytes, so small dumps never trip it.
EXPANSION_FLOOR = 256 * 1024 * 1024
#: Namespace numbers are small integers (MediaWiki's are within ±10^4); a 5,000-digit <ns> is refused.
_NAMESPACE = re.compile(r"-?[0-9]{1,9}")
#: Elements whose content is read when their parent ends: kept until then, every other element is
#: dropped as soon as it ends, so memory does not grow with the number of elements.
_READ_LATER = {"revision": frozenset({"id", "timestamp", "comment", "text", "contributor"}),
               "contributor": frozenset({"username", "ip"})}


class _CappedReader:
    """A binary source counting what it hands out, refusing what breaks the byte budgets.

    The XML parser reads ahead in chunks and only reports an element when it
    ends, so a single 1 GiB ``<text>`` never reaches the loop: the cap has to
    live in the reader, measured from the last revision boundary (``mark``).
    """

    def __init__(self, raw: IO[bytes], name: str, compressed_size: int | None = None) -> None:
        self.raw = raw
        self.name = name
        self.compressed_size = compressed_size
        self.total = 0
        self.mark = 0
        self.page = ""

    def read(self, size: int = -1) -> bytes:
        # The XML parser asks for chunks; "everything" is served as 64 KiB at a time, so no read can
        # fetch more than a chunk past a cap.
        data = self.raw.read(size if size is not None and size >= 0 else 1 << 16)
        self.total += len(data)
        if self.total - self.mark > MAX_REVISION_XML_BYTES:
            where = f"page {self.page!r}" if self.page else "one element"
            raise BudgetExceeded(self.name, f"{where} holds over {MAX_REVISION_XML_BYTES:,} bytes of XML in one "
                                            "revision (a compression bomb, or not a MediaWiki export)")
        if (self.compressed_size is not None and self.total > EXPANSION_FLOOR
                and self.total > MAX_EXPANSION * max(self.compressed_size, 1)):
            raise BudgetExceeded(self.name, f"expands over {MAX_EXPANSION:,} times its compressed size "
                                            f"({self.total:,} bytes so far): a compression bomb")
        return data

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _CappedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_dump(path: Path) -> _CappedReader:
    """Open a dump (``.bz2`` decompressed on the fly) for :func:`iter_dump`, within the byte budgets."""
    if path.suffix == ".bz2":
        return _CappedReader(bz2.open(path, "rb"), str(path), compressed_size=path.stat().st_size)
    return _CappedReader(path.open("rb"), str(path))


def _namespace(text: str, where: str, what: str) -> int:
    value = text.strip()
    if not _NAMESPACE.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ImportFailed(f"{where}: {what} {shown!r} is not a namespace number")
    return int(value)


def iter_dump(source: IO[bytes] | _CappedReader, all_revisions: bool = False) -> Iterator[DumpRevision | None]:
    """Yield each page's revisions (only its latest unless ``all_revisions``), then ``None`` at page end.

    Every element is dropped as soon as it is read, so memory does not grow with
    the dump, nor with the number of elements in a page. The byte and element
    budgets above raise :class:`~wikicore.errors.BudgetExceeded` naming the dump
    and the page; a namespace that is not a number raises
    :class:`~wikicore.errors.ImportFailed`.
    """
    if isinstance(source, _CappedReader):
        reader = source
    else:
        reader = _CappedReader(source, str(getattr(source, "name", "dump")))
    name = reader.name
    title: str | None = None
    namespace: int | None = None
    redirect: str | None = None
    latest: DumpRevision | None = None
    prefixes: dict[str, int] = {}
    root: ET.Element | None = None
    open_elements: list[ET.Element] = []
    elements = 0  # started since the last revision (or page) ended
    # expat >= 2.4 (Python 3.11 ships 2.5) refuses entity-expansion bombs, and
    # ElementTree never fetches external entities or DTDs: a dump cannot reach
    # the network or the file system. Hence no defusedxml dependency.
    for event, elem in ET.iterparse(reader, events=("start", "end")):  # noqa: S314
        tag = _local(elem.tag)
        if event == "start":
            if root is None:
                root = elem
            open_elements.append(elem)
            elements += 1
            if elements > MAX_REVISION_ELEMENTS:
                where = f"page {title!r}" if title is not None else "one page"
                raise BudgetExceeded(name, f"{where} holds over {MAX_REVISION_ELEMENTS:,} elements in one revision "
                                           "(not a MediaWiki export)")
            if tag == "page":
                title, namespace, redirect, latest = None, None, None, None
                reader.page = ""
            continue
        open_elements.pop()
        parent = open_elements[-1] if open_elements else None
        if tag == "namespace" and elem.get("key") is not None and elem.text:
            key = elem.get("key") or "0"
            prefixes[elem.text.strip()] = _namespace(key, name, "<namespace key>")
        elif tag == "title":
            title = elem.text or ""
            reader.page = title
        elif tag == "ns":
            number = (elem.text or "").strip()
            namespace = _namespace(number, f"{name}: page {title or ''!r}", "<ns>") if number else 0
        elif tag == "redirect":
            redirect = elem.get("title")
        elif tag == "revision":
            if namespace is None:
                prefix = (title or "").split(":", 1)[0] if ":" in (title or "") else ""
                namespace = prefixes.get(prefix, 0)
            contributor = next((c for c in elem if _local(c.tag) == "contributor"), None)
            user = ""
            if contributor is not None:
                user = _child_text(contributor, "username") or _child_text(contributor, "ip") or ""
            text_elem = next((c for c in elem if _local(c.tag) == "text"), None)
            text = None
            if text_elem is not None and text_elem.get("deleted") is None:
                text = text_elem.text or ""
            revision = DumpRevision(
                title=title or "", namespace=namespace, page_redirect=redirect,
                id=_child_text(elem, "id") or "", timestamp=_child_text(elem, "timestamp") or "",
                user=user, comment=_child_text(elem, "comment") or "", text=text,
            )
            elem.clear()
            elements = 0
            reader.mark = reader.total
            if all_revisions:
                yield revision
            elif latest is None or revision.timestamp >= latest.timestamp:
                latest = revision
        elif tag == "page":
            if latest is not None:
                yield latest
            yield None
            elem.clear()
            elements = 0
            reader.mark = reader.total
            if root is not None:
                root.clear()
            continue
        # Drop the element from its parent now, unless the parent reads it when it ends.
        if parent is not None and tag not in _READ_LATER.get(_local(parent.tag), ()) and len(parent) \
                and parent[-1] is elem:
            del parent[-1]
