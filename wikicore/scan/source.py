"""Reading a dump for the scan: pages in batches, or byte ranges of a multistream bz2.

Two ways in, both bounded in memory:

* **Streaming** (any ``.xml`` or ``.xml.bz2``): the client reads the dump once with
  :func:`wikicore.mediawiki.dump.iter_dump` and cuts the pages of the main namespace into
  batches (:func:`iter_batches`) that are shipped to the workers. The client never
  holds more than the batches in flight.
* **Multistream** (a ``pages-articles-multistream.xml.bz2`` and its index): the
  index gives the byte offset of every bz2 stream (about 100 pages each), so the
  dump is cut into byte ranges (:func:`read_index`, :func:`chunk_ranges`) and each
  worker decompresses and parses its own range (:func:`iter_range_pages`). The
  client reads only the index; the reading itself runs in parallel.

Every page comes out as a :class:`Page`, the only thing a worker needs.
"""

from __future__ import annotations

import bz2
import io
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import InvalidInput
from ..mediawiki.dump import iter_dump

__all__ = [
    "BZ2_MAGIC",
    "MAX_INDEX_LINE",
    "ByteRange",
    "Page",
    "chunk_ranges",
    "iter_batches",
    "iter_pages",
    "iter_range_pages",
    "open_dump",
    "read_header",
    "read_index",
]

#: The first bytes of every bz2 stream.
BZ2_MAGIC = b"BZh"
#: Bytes kept back at the end of a range, to drop the dump's closing ``</mediawiki>`` there.
_HOLDBACK = 64
#: Largest header (bytes before the first indexed stream) we decompress: siteinfo is a few KB.
MAX_HEADER_BYTES = 16 * 1024 * 1024
#: Longest index line read (characters): ``offset:page_id:title`` with a title of at most
#: 255 bytes (MediaWiki's limit) is under 300; a 1,138-byte bz2 file can hold a 1.5 GB line.
MAX_INDEX_LINE = 4096
#: Digits of an offset: 20 hold any 64-bit file size (int() of 5,000 digits raises ValueError).
_MAX_OFFSET_DIGITS = 20
#: What follows ``BZh`` + level at a stream's start: a block's magic (the digits of pi) or, for an
#: empty stream, the end-of-stream magic (sqrt(pi)); bzip2's file format.
_STREAM_STARTS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")


@dataclass(frozen=True)
class Page:
    """One page of the dump as the scan sees it: its latest revision's text and where it came from."""

    title: str
    namespace: int
    revision_id: str
    timestamp: str
    text: str | None


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a multistream dump: whole bz2 streams, read by one task."""

    index: int
    start: int
    end: int


class _Named(io.RawIOBase):
    """A decompressed stream that keeps its file's name, so the dump reader's errors name the file."""

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._raw = raw
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_dump(path: Path) -> IO[bytes]:
    """The dump's XML bytes: bz2 is recognised by its magic bytes, not by the file name."""
    with path.open("rb") as probe:
        magic = probe.read(3)
    if magic == BZ2_MAGIC:
        return io.BufferedReader(_Named(bz2.open(path, "rb"), str(path)), 1 << 16)
    return path.open("rb")


def iter_pages(source: IO[bytes]) -> Iterator[Page]:
    """Each page's latest revision, in dump order (pages without a revision are left out)."""
    for revision in iter_dump(source):
        if revision is None:
            continue
        yield Page(revision.title, revision.namespace, revision.id, revision.timestamp, revision.text)


def iter_batches(
    source: IO[bytes], *, batch_pages: int, batch_bytes: int, namespaces: frozenset[int]
) -> Iterator[tuple[list[Page], int]]:
    """Yield ``(batch, pages_read)``: pages of ``namespaces`` in batches of at most ``batch_pages``.

    A batch also closes once its text reaches ``batch_bytes`` characters, so a run of
    huge pages does not make one huge message. ``pages_read`` counts every page read
    so far, skipped namespaces included (for progress).
    """
    batch: list[Page] = []
    size = 0
    read = 0
    for page in iter_pages(source):
        read += 1
        if page.namespace not in namespaces:
            continue
        batch.append(page)
        size += len(page.text or "")
        if len(batch) >= batch_pages or size >= batch_bytes:
            yield batch, read
            batch, size = [], 0
    if batch:
        yield batch, read


# --- multistream ------------------------------------------------------------------


def read_index(index: Path, dump_size: int, dump: Path | None = None) -> list[int]:
    """The distinct stream offsets of a multistream index (``offset:page_id:title`` lines), sorted.

    The index may be plain text or bz2 (as Wikimedia publishes it). Offsets must be
    whole numbers inside the dump; anything else is bad input naming the line, as
    is a line over :data:`MAX_INDEX_LINE` characters. With ``dump``, every offset
    must also be where a bz2 stream starts in it: an index of another dump, or
    offsets shifted by a few bytes, would otherwise scan as nothing but bad pages.
    """
    if not index.is_file():
        raise InvalidInput(f"{index}: no such index file")
    offsets: dict[int, int] = {}
    try:
        with open_dump(index) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="strict") as lines:
            number = 0
            while line := lines.readline(MAX_INDEX_LINE + 1):  # never a whole unbounded line
                number += 1
                if len(line) > MAX_INDEX_LINE:
                    raise InvalidInput(f"{index}:{number}: a line over {MAX_INDEX_LINE} characters: "
                                       "not a multistream index")
                if not line.strip():
                    continue
                head = line.split(":", 1)[0].strip()
                if not (head.isascii() and head.isdigit() and len(head) <= _MAX_OFFSET_DIGITS) or ":" not in line:
                    raise InvalidInput(f"{index}:{number}: not an 'offset:page_id:title' line: {line.strip()[:80]!r}")
                offset = int(head)
                if offset >= dump_size:
                    raise InvalidInput(f"{index}:{number}: offset {offset} is past the end of the dump "
                                       f"({dump_size} bytes): is this the dump's own index?")
                offsets.setdefault(offset, number)
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{index}: not a UTF-8 text index: {error}") from None
    except (OSError, EOFError) as error:
        raise InvalidInput(f"{index}: {error}") from None
    if not offsets:
        raise InvalidInput(f"{index}: the index lists no streams")
    ordered = sorted(offsets)
    if dump is not None:
        _check_streams(dump, index, ordered, offsets)
    return ordered


def _check_streams(dump: Path, index: Path, ordered: list[int], lines: dict[int, int]) -> None:
    """Refuse an index whose offsets are not stream starts in ``dump`` (one seek and 10 bytes each)."""
    with dump.open("rb") as handle:
        for offset in ordered:
            handle.seek(offset)
            head = handle.read(10)
            if not (head[:3] == BZ2_MAGIC and head[3:4] in b"123456789" and len(head[3:4]) == 1
                    and head[4:] in _STREAM_STARTS):
                raise InvalidInput(f"{index}:{lines[offset]}: offset {offset} is not the start of a bz2 stream "
                                   f"in {dump}: is this the dump's own index?")


def chunk_ranges(offsets: list[int], dump_size: int, streams_per_task: int) -> list[ByteRange]:
    """Cut the dump into ranges of ``streams_per_task`` consecutive streams; the last runs to the end."""
    starts = offsets[::streams_per_task]
    ends = [*starts[1:], dump_size]
    return [ByteRange(i, start, end) for i, (start, end) in enumerate(zip(starts, ends, strict=True))]


def read_header(dump: Path, first_offset: int) -> bytes:
    """The ``<siteinfo>`` element from the bytes before the first indexed stream (b"" if none).

    Workers parse ranges without the dump's root element; the siteinfo is prepended
    so that namespace prefixes resolve the same way as in a streaming read.
    """
    if first_offset <= 0:
        return b""
    if first_offset > MAX_HEADER_BYTES:
        raise InvalidInput(f"{dump}: the first indexed stream starts at byte {first_offset}; "
                           "the header before it is too large to be a siteinfo")
    with dump.open("rb") as handle:
        data = handle.read(first_offset)
    try:
        text = bz2.decompress(data)
    except (OSError, ValueError, EOFError) as error:
        raise InvalidInput(f"{dump}: the bytes before the first indexed stream are not bz2: {error}") from None
    start = text.find(b"<siteinfo")
    end = text.find(b"</siteinfo>")
    if start < 0 or end < start:
        return b""
    return text[start:end + len(b"</siteinfo>")]


class _Limited(io.RawIOBase):
    """A read-only view of bytes ``[start, end)`` of a file."""

    def __init__(self, handle: IO[bytes], start: int, end: int) -> None:
        self._handle = handle
        self._left = end - start
        handle.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        want = min(len(buffer), self._left)
        data = self._handle.read(want)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


class _Framed(io.RawIOBase):
    """Decompressed pages of a range, framed as one small XML document for the dump reader.

    ``<mediawiki>`` + siteinfo + everything from the first ``<page`` on + ``</mediawiki>``;
    the dump's own opening (first range) and closing tag (last range) are dropped.
    """

    def __init__(self, pages: IO[bytes], header: bytes) -> None:
        self._pages = pages
        self._out = bytearray(b"<mediawiki>" + header)
        self._started = False
        self._tail = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def _fill(self, want: int) -> None:
        while len(self._out) < want and not self._done:
            data = self._pages.read(1 << 16)
            if not data:
                tail = bytes(self._tail).rstrip()
                tail = tail.removesuffix(b"</mediawiki>")
                if self._started:
                    self._out += tail
                self._out += b"</mediawiki>"
                self._done = True
                break
            self._tail += data
            if not self._started:
                at = self._tail.find(b"<page")
                if at < 0:
                    del self._tail[: max(0, len(self._tail) - 5)]
                    continue
                del self._tail[:at]
                self._started = True
            if len(self._tail) > _HOLDBACK:
                cut = len(self._tail) - _HOLDBACK
                self._out += self._tail[:cut]
                del self._tail[:cut]

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._fill(len(buffer))
        count = min(len(buffer), len(self._out))
        buffer[:count] = self._out[:count]
        del self._out[:count]
        return count


def iter_range_pages(dump: str | os.PathLike[str], part: ByteRange, header: bytes) -> Iterator[Page]:
    """The pages in one byte range of a multistream dump; raises what the reader raises.

    ``ET.ParseError``, ``OSError`` or ``EOFError`` mean the range is damaged; the pages
    yielded before stay good (the caller reports the rest as one finding).
    """
    with open(dump, "rb") as handle:
        limited = io.BufferedReader(_Limited(handle, part.start, part.end))
        with bz2.BZ2File(limited, "rb") as pages:
            framed = io.BufferedReader(_Framed(pages, header))
            yield from iter_pages(framed)


#: The errors that mean "this XML or compressed data is damaged".
DAMAGED = (ET.ParseError, OSError, EOFError)
