"""Hostile revisions and slugs give exit 2 and touch nothing outside the wiki (both are untrusted input)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.serialize import dumps
from wikicore.store import Wiki

from .support.wiki_helpers import article, fsck_clean, tip

HOSTILE_REVISIONS = [
    "--output={out}", "-o{out}", "--all", "HEAD..", "../../x", "HEAD..HEAD~1", "HEAD~1...HEAD", "main",
    "HEAD:articles/foo.yaml", "@{-1}", "HEAD@{0}", " HEAD", "HEAD\n", "--end-of-options", "-", "HEAD~1 --all",
    "refs/heads/main", "FETCH_HEAD", ":/foo", "$(touch {out})",
]
HOSTILE_SLUGS = [
    "../etc/passwd", ".git/config", ".GIT", ".git", "Café", unicodedata.normalize("NFD", "café"), "Foo",
    "foo/bar", "a\\b", "-rf", "..", ".", "", "x" * 121, "con\nnl", "foo\n", "git", "GIT~1",
]


def snapshot(root: Path, skip: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if skip not in p.parents and p != skip}


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Path, Path, str]:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    wiki_path = tmp_path / "wiki"
    with Wiki.init(wiki_path) as wiki:
        wiki.save(article("foo"), "one")
        wiki.save(article("foo", claims=["Second. "]), "two", base="HEAD")
    edited = tmp_path / "edited.yaml"
    edited.write_text(dumps(article("foo", claims=["Third. "])), encoding="utf-8")
    return CliRunner(), wiki_path, tmp_path, tip(wiki_path)


@pytest.mark.parametrize("template", HOSTILE_REVISIONS)
def test_hostile_revisions_exit_2_and_write_nothing(setup: tuple[CliRunner, Path, Path, str],
                                                     template: str) -> None:
    runner, wiki_path, root, before = setup
    out = root / "x"
    rev = template.replace("{out}", str(out))
    files = snapshot(root, wiki_path)
    invocations = [
        ["show", "foo", f"--rev={rev}"],
        ["blame", "foo", f"--rev={rev}"],
        ["diff", "foo", "--", rev],
        ["diff", "foo", "HEAD", "--", rev],
        ["save", str(root / "edited.yaml"), f"--base={rev}"],
    ]
    for args in invocations:
        result = runner.invoke(main, ["--wiki", str(wiki_path), *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert "revision" in result.output, (args, result.output)
    assert not out.exists()
    assert snapshot(root, wiki_path) == files
    assert tip(wiki_path) == before
    fsck_clean(wiki_path)


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
def test_hostile_slugs_exit_2_and_write_nothing(setup: tuple[CliRunner, Path, Path, str], slug: str) -> None:
    runner, wiki_path, root, before = setup
    source = root / "source.yaml"
    source.write_text(dumps(article("fresh")), encoding="utf-8")
    files = snapshot(root, wiki_path)
    invocations = [
        ["history", slug],
        ["blame", slug],
        ["diff", slug],
        ["mv", "foo", slug],
        ["mv", slug, "bar"],
        ["import", str(source), "--from", "yaml", "--slug", slug],
    ]
    for args in invocations:
        result = runner.invoke(main, ["--wiki", str(wiki_path), *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert snapshot(root, wiki_path) == files
    assert tip(wiki_path) == before
    with Wiki.open(wiki_path) as wiki:
        assert wiki.list() == ["foo"]


def test_an_article_file_with_a_hostile_slug_is_refused(setup: tuple[CliRunner, Path, Path, str]) -> None:
    runner, wiki_path, root, before = setup
    bad = root / "bad.yaml"
    bad.write_text(dumps(article("foo")).replace("slug: foo", "slug: ../../evil"), encoding="utf-8")
    result = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(bad)])
    assert result.exit_code == 2 and "slug" in result.output
    assert tip(wiki_path) == before


def test_nfc_and_nfd_and_case_variants_cannot_coexist(setup: tuple[CliRunner, Path, Path, str]) -> None:
    runner, wiki_path, root, _before = setup
    nfc = root / "nfc.yaml"
    nfc.write_text(dumps(article("café")), encoding="utf-8")
    assert runner.invoke(main, ["--wiki", str(wiki_path), "save", str(nfc)]).exit_code == 0
    for variant in ("strasse", "straße"):
        path = root / f"{variant}.yaml"
        path.write_text(dumps(article(variant)), encoding="utf-8")
    assert runner.invoke(main, ["--wiki", str(wiki_path), "save", str(root / "strasse.yaml")]).exit_code == 0
    result = runner.invoke(main, ["--wiki", str(wiki_path), "save", str(root / "straße.yaml")])
    assert result.exit_code == 2 and "collides" in result.output
    nfd = unicodedata.normalize("NFD", "café")
    result = runner.invoke(main, ["--wiki", str(wiki_path), "history", nfd])
    assert result.exit_code == 2 and "NFC" in result.output
    with Wiki.open(wiki_path) as wiki:
        assert wiki.list() == ["café", "foo", "strasse"]
