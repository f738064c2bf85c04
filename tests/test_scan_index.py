"""`scan --index`: a multistream index is foreign bytes, read in bounded time and checked against the dump.

Real bz2 files built the way Wikimedia builds them (tests.test_scan.write_multistream).
"""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput

pytest.importorskip("distributed")

from wikicore.scan import scan_dump
from wikicore.scan.source import read_index

from .test_scan import TODAY, pages, write_multistream


def _bz2_lines(path: Path, *pieces: bytes, repeat: int = 1) -> Path:
    compressor = bz2.BZ2Compressor()
    data = bytearray()
    for piece in pieces:
        data += compressor.compress(piece)
    for _ in range(repeat - 1):
        data += compressor.compress(pieces[-1])
    data += compressor.flush()
    path.write_bytes(bytes(data))
    return path


def test_one_endless_line_in_a_tiny_bz2_index_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    # A first line "0:1:" and then 64 MB of title, in a few KB of bz2: read whole, it would be
    # taken as one stream at offset 0 (the title is not looked at).
    index = _bz2_lines(tmp_path / "index.txt.bz2", b"0:1:", b"A" * (1024 * 1024), repeat=64)
    assert index.stat().st_size < 10_000
    with pytest.raises(InvalidInput, match=r"index.txt.bz2:1: a line over 4096 characters"):
        read_index(index, dump_size=10**9)


@pytest.mark.parametrize("head", ["9" * 5000, "²", "1" * 21, "١٢"], ids=["5000-digits", "superscript", "21-digits",
                                                                        "arabic-digits"])
def test_offsets_that_are_no_byte_position_are_bad_input_naming_the_line(tmp_path: Path, head: str) -> None:
    index = tmp_path / "index.txt"
    index.write_text(f"0:1:Alpha\n{head}:2:Beta\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"index.txt:2: (not an 'offset:page_id:title' line|a line over)"):
        read_index(index, dump_size=10**30)


def test_a_5000_digit_offset_is_exit_2_from_the_cli(tmp_path: Path) -> None:
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "index.txt"
    write_multistream(dump, index, pages(), per_stream=2)
    index.write_text("9" * 5000 + ":1:Alpha\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(dump), "--index", str(index), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "index.txt:1" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("shift", [7, -3], ids=["plus-7", "minus-3"])
def test_offsets_shifted_off_the_streams_are_refused_before_anything_is_scanned(tmp_path: Path, shift: int) -> None:
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "index.txt"
    offsets = write_multistream(dump, index, pages(), per_stream=2)
    lines = bz2.decompress(index.read_bytes()).decode().splitlines()
    moved = [f"{int(line.split(':', 1)[0]) + shift}:{line.split(':', 1)[1]}" for line in lines]
    index.write_text("\n".join(moved) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=rf"offset {offsets[0] + shift} is not the start of a bz2 stream"):
        scan_dump(dump, tmp_path / "o", workers=1, index=index, today=TODAY)
    assert not (tmp_path / "o").exists()


def test_one_wrong_offset_among_good_ones_is_named(tmp_path: Path) -> None:
    dump, index = tmp_path / "multi.xml.bz2", tmp_path / "index.txt"
    offsets = write_multistream(dump, index, pages(), per_stream=2)
    lines = bz2.decompress(index.read_bytes()).decode().splitlines()
    last = lines[-1].split(":", 1)
    lines[-1] = f"{int(last[0]) + 1}:{last[1]}"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=rf"index.txt:{len(lines)}: offset {offsets[-1] + 1} is not the start"):
        read_index(index, dump.stat().st_size, dump)
    assert read_index(index, dump.stat().st_size)  # without the dump, only the syntax is checked
