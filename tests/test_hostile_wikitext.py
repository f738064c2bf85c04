"""Hostile wikitext: budgets refuse what would hang the parser, naming the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mwparserfromhell
import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import BudgetExceeded, ImportFailed, InvalidInput
from wikicore.mediawiki.budget import MAX_CHARS, MAX_UNCLOSED_WORK, unclosed_markup
from wikicore.mediawiki.importer import import_wikitext

from .support.hostile_helpers import ceiling
from .support.npmdata import real_articles  # noqa: F401  (fixture)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the size of every text handed to mwparserfromhell (the real parser still runs)."""
    seen: list[int] = []
    real = mwparserfromhell.parse

    def recording(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(mwparserfromhell, "parse", recording)
    return seen


# The cases a security review found, each refused before mwparserfromhell sees it.
UNCLOSED = {
    "4000-open-templates": "{{a|" * 4000,  # 27-38 s before
    "4000-open-ref-tags": "<ref " * 4000,  # 27-38 s before
    "10000-open-templates": "{{a|" * 10_000,  # never finished before
    "closers-first": "}}" * 4000 + "{{a|" * 4000,  # counts balance, yet every opener is unclosed
    "links-in-templates": "{{a|[http://x " * 2000,  # 25 s for 4,000
    "open-ref-names": "<ref name=" * 1000,  # 2.3 s for 500, 15 s for 2,000
    "ten-before-a-long-page": "{{a|" * 10 + "Plain prose goes on and on. " * 40_000,  # 23 s before
}


@pytest.mark.parametrize("name", UNCLOSED)
def test_unclosed_markup_is_refused_before_parsing(name: str, parses: list[int]) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        import_wikitext(UNCLOSED[name], title="Hostile page")
    assert caught.value.page == "Hostile page"
    assert str(caught.value).startswith("Hostile page: ") and "budget" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert parses == []  # the tokenizer never ran
    assert isinstance(caught.value, ImportFailed) and isinstance(caught.value, InvalidInput)


def test_unclosed_markup_counts() -> None:
    assert unclosed_markup("{{a|b}} [[x]] <ref name=a>r</ref> [http://x y]") == 0
    assert unclosed_markup("}}}}{{a|{{a|") == 2
    assert unclosed_markup("<ref <ref name=x>") == 1
    assert unclosed_markup("[" * 8) == 2  # brackets weigh a quarter
    assert unclosed_markup("x < y and a<b") == 1  # a comparison with a letter after '<' looks like a tag


def test_real_articles_are_far_inside_the_budget(real_articles: dict[str, Path]) -> None:  # noqa: F811
    for name, path in real_articles.items():
        text = path.read_text(encoding="utf-8")
        assert unclosed_markup(text) * len(text) <= MAX_UNCLOSED_WORK // 10, name


def test_a_few_stray_openers_in_an_ordinary_page_still_import() -> None:
    article = import_wikitext("Intro {{stray. More text.<ref>Src.</ref>\n\n== A ==\nBody [ here.", title="Stray")
    assert article.sections[0].heading == "A"


def test_8000_refs_on_one_line_import() -> None:
    """39 s before (quadratic id minting and sentence splitting); now linear, under a hang ceiling."""
    with ceiling():
        article = import_wikitext("Text" + "<ref>x</ref>" * 8000 + ".", title="Many refs")
    assert len(article.claims()) == 1 and article.claims()[0].text == "Text."


def test_the_time_budget_names_the_page() -> None:
    with pytest.raises(BudgetExceeded, match=r"^Slow page: import took over 0 s \(the per-page time budget\)$"):
        import_wikitext("One.\n\n== A ==\nTwo.", title="Slow page", time_budget=0)


def test_the_size_budget_names_the_page() -> None:
    with pytest.raises(BudgetExceeded, match=r"^Huge: input is over"):
        import_wikitext("x" * (MAX_CHARS + 1), title="Huge")


def test_cli_import_says_one_line_and_exits_2(tmp_path: Path) -> None:
    wiki = tmp_path / "wiki"
    runner = CliRunner()
    assert runner.invoke(main, ["--wiki", str(wiki), "init"]).exit_code == 0
    page = tmp_path / "Hostile.wiki"
    page.write_text("{{a|" * 4000, encoding="utf-8")
    result = runner.invoke(main, ["--wiki", str(wiki), "import", str(page)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Hostile.wiki" in lines[0] and "budget" in lines[0]
    assert "Traceback" not in result.output
