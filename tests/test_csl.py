"""CSL-JSON export of references: what Zotero and Pandoc read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.exporters import export
from wikicore.exporters.csl import CSL_TYPES, csl_item
from wikicore.importers import import_path
from wikicore.models import Reference, ReferenceType

from .support.wikitext_cases import DATA, FIXTURE_IDS, FIXTURES


@pytest.mark.parametrize("path", FIXTURES, ids=FIXTURE_IDS)
def test_every_fixture_gives_a_valid_json_array(path: Path) -> None:
    article = import_path(path)
    items = json.loads(export(article, "csl-json"))
    assert isinstance(items, list)
    assert [i["id"] for i in items] == [r.id for r in article.references]
    assert all(i["type"] in set(CSL_TYPES.values()) for i in items)


def test_fields_of_a_book() -> None:
    ref = Reference(id="r-b", type=ReferenceType.BOOK, title="Big Book", authors=["Roe, Rick", "The Team"],
                    date="2001-05-06", access_date="2020-01", publisher="Pub", isbn="978-0-00-000000-2",
                    url="http://b.example.org", pages="3–4", archive_url="https://web.archive.org/x")
    assert csl_item(ref) == {
        "id": "r-b", "type": "book", "title": "Big Book",
        "author": [{"family": "Roe", "given": "Rick"}, {"literal": "The Team"}],
        "issued": {"date-parts": [[2001, 5, 6]]}, "accessed": {"date-parts": [[2020, 1]]},
        "publisher": "Pub", "URL": "http://b.example.org", "ISBN": "978-0-00-000000-2", "page": "3–4",
        "archive_location": "https://web.archive.org/x",
    }


@pytest.mark.parametrize(
    ("kind", "csl"),
    [(ReferenceType.NEWS, "article-newspaper"), (ReferenceType.JOURNAL, "article-journal"),
     (ReferenceType.WEB, "webpage"), (ReferenceType.VIDEO, "motion_picture"), (ReferenceType.OTHER, "document")],
)
def test_types(kind: ReferenceType, csl: str) -> None:
    assert csl_item(Reference(id="r-x", type=kind, title="T"))["type"] == csl


def test_journal_fields_from_wikitext() -> None:
    items = json.loads(export(import_path(DATA / "list_defined_refs.wiki"), "csl-json"))
    journal = next(i for i in items if i["id"] == "r-sleep")
    assert journal["container-title"] == "Journal of Cats"
    assert (journal["volume"], journal["issue"], journal["DOI"]) == ("3", "2", "10.1000/cats.2015")
    assert journal["author"] == [{"family": "Purr", "given": "Felix"}]


def test_free_text_reference_keeps_its_text_as_title() -> None:
    items = json.loads(export(import_path(DATA / "free_text_refs.wiki"), "csl-json"))
    assert items[0]["title"] == "Smith, John. ''A book without a template''. 1999."
    assert items[1]["title"] == "A bare page"


def test_cli_convert_to_csl_json() -> None:
    result = CliRunner().invoke(main, ["convert", str(DATA / "japanese.wiki"), "--to", "csl-json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert items[0]["title"] == "東京都の概要" and items[0]["language"] == "ja"
