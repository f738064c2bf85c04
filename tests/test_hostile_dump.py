"""Hostile dumps: byte, expansion and element budgets; crashes become one line, exit 2."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import BudgetExceeded, ImportFailed
from wikicore.mediawiki import dump as dump_module
from wikicore.mediawiki.dump import MAX_REVISION_ELEMENTS, MAX_REVISION_XML_BYTES, iter_dump
from wikicore.mediawiki.dumpimport import import_dump
from wikicore.store import Wiki

HEAD = '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">'


def page(title: str, text: str, ns: str = "0", rev: str = "1") -> str:
    return (f"<page><title>{title}</title><ns>{ns}</ns><revision><id>{rev}</id>"
            f"<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>U</username></contributor>"
            f"<text>{text}</text></revision></page>")


@pytest.fixture
def wiki(tmp_path: Path) -> Path:
    path = tmp_path / "wiki"
    Wiki.init(path).close()
    return path


def write_bz2(path: Path, parts: list[bytes], repeat: tuple[bytes, int] | None = None, tail: bytes = b"") -> Path:
    """A .bz2 file of ``parts``, then ``repeat[0]`` written ``repeat[1]`` times, then ``tail`` (streamed)."""
    compressor = bz2.BZ2Compressor(9)
    with path.open("wb") as out:
        for part in parts:
            out.write(compressor.compress(part))
        if repeat is not None:
            for _ in range(repeat[1]):
                out.write(compressor.compress(repeat[0]))
        out.write(compressor.compress(tail))
        out.write(compressor.flush())
    return path


def test_a_bz2_bomb_is_stopped_at_the_revision_byte_cap(tmp_path: Path, wiki: Path) -> None:
    """A small .bz2 holding one huge <text> (1 GiB took 2.1 GB before): refused after MAX_REVISION_XML_BYTES."""
    size = MAX_REVISION_XML_BYTES + 8 * 1024 * 1024
    bomb = write_bz2(tmp_path / "bomb.xml.bz2", [HEAD.encode(), b"<page><title>Bomb</title><ns>0</ns>"
                                                 b"<revision><id>1</id><text>"],
                     repeat=(b"a" * (1 << 20), size >> 20), tail=b"</text></revision></page></mediawiki>")
    assert bomb.stat().st_size < 100_000
    with dump_module.open_dump(bomb) as reader:
        with pytest.raises(BudgetExceeded, match="page 'Bomb' holds over 67,108,864 bytes") as caught:
            list(iter_dump(reader))
        assert reader.total <= MAX_REVISION_XML_BYTES + (1 << 20)  # the work done: one chunk past the cap
    assert caught.value.page == str(bomb)
    with pytest.raises(BudgetExceeded):
        import_dump(bomb, wiki)
    assert Wiki.open(wiki).list() == []  # nothing half-written


def test_a_dump_that_expands_like_a_bomb_is_refused(tmp_path: Path, wiki: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Many pages of one repeated letter: every revision is under its cap, the whole expands like a bomb."""
    monkeypatch.setattr(dump_module, "EXPANSION_FLOOR", 1 << 20)  # the real floor is 256 MiB: too slow here
    body = page("P", "a" * (1 << 19)).encode()
    path = write_bz2(tmp_path / "many.xml.bz2", [HEAD.encode()], repeat=(body, 40), tail=b"</mediawiki>")
    assert path.stat().st_size * 1000 < 40 * len(body)
    with pytest.raises(BudgetExceeded, match="expands over 1,000 times its compressed size"):
        list(iter_dump(dump_module.open_dump(path)))


def test_ten_thousand_elements_in_one_revision_are_refused(tmp_path: Path) -> None:
    """10 million empty elements in one page took 0.9 GB; the page is refused past MAX_REVISION_ELEMENTS."""
    path = write_bz2(tmp_path / "elements.xml.bz2",
                     [HEAD.encode(), b"<page><title>Many</title><ns>0</ns><revision><id>1</id>"],
                     repeat=(b"<x/>" * 1000, 1000), tail=b"<text>Hi.</text></revision></page></mediawiki>")
    reader = dump_module.open_dump(path)
    with pytest.raises(BudgetExceeded, match="page 'Many' holds over 10,000 elements"):
        list(iter_dump(reader))
    assert reader.total < 5 * MAX_REVISION_ELEMENTS * len(b"<x/>")  # stopped within a chunk, not 4 MB in
    reader.close()


def test_elements_are_counted_per_revision_not_per_history(tmp_path: Path) -> None:
    """A long history is legitimate: the element budget restarts with every revision."""
    count = 3 * MAX_REVISION_ELEMENTS // 5  # 5 elements each: 3 times the budget in all
    revisions = "".join(f"<revision><id>{i}</id><timestamp>2020-01-01T00:00:{i % 60:02d}Z</timestamp>"
                        f"<comment>c</comment><text>Rev {i}.</text></revision>" for i in range(count))
    xml = f"{HEAD}<page><title>Long</title><ns>0</ns>{revisions}</page></mediawiki>"
    path = tmp_path / "long.xml"
    path.write_text(xml, encoding="utf-8")
    got = [r for r in iter_dump(dump_module.open_dump(path), all_revisions=True) if r is not None]
    assert len(got) == count


BAD_NAMESPACES = {
    "ns-letters": (page("P", "x", ns="abc"), "<ns> 'abc' is not a namespace number"),
    "ns-5000-digits": (page("P", "x", ns="9" * 5000), "<ns> '9999999999"),
    "namespace-key-letters": ('<siteinfo><namespaces><namespace key="zz">Odd</namespace></namespaces></siteinfo>'
                              + page("P", "x"), "<namespace key> 'zz' is not a namespace number"),
    "namespace-key-5000-digits": (f'<siteinfo><namespaces><namespace key="{"1" * 5000}">Odd</namespace>'
                                  "</namespaces></siteinfo>" + page("P", "x"), "<namespace key> '1111"),
}


@pytest.mark.parametrize("name", BAD_NAMESPACES)
def test_bad_namespaces_end_in_one_line_and_exit_2(name: str, tmp_path: Path, wiki: Path) -> None:
    body, expected = BAD_NAMESPACES[name]
    path = tmp_path / "bad.xml"
    path.write_text(f"{HEAD}{body}</mediawiki>", encoding="utf-8")
    with pytest.raises(ImportFailed, match=re.escape(expected)):
        import_dump(path, wiki)
    result = CliRunner().invoke(main, ["--wiki", str(wiki), "import-dump", "-q", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.output
    assert len(lines[0]) < 300  # the 5,000 digits are not echoed


def test_a_page_over_the_wikitext_budget_is_reported_and_the_dump_goes_on(tmp_path: Path, wiki: Path) -> None:
    xml = (HEAD + page("Before", "A fine page.") + page("Hostile", "{{a|" * 4000, rev="2")
           + page("After", "Another fine page.", rev="3") + "</mediawiki>")
    path = tmp_path / "mixed.xml"
    path.write_text(xml, encoding="utf-8")
    summary = import_dump(path, wiki)
    assert (summary.pages, summary.skipped) == (2, 1)
    assert any("'Hostile'" in w and "budget" in w for w in summary.warnings)
    assert sorted(Wiki.open(wiki).list()) == ["after", "before"]
