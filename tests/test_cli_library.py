"""What the CLI used to decide and now asks the library for: check settings, archiving, the render registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wikicore.errors import InvalidInput, NotFound
from wikicore.net import CheckConfig

from .support.wiki_helpers import article


def test_check_config_from_no_options_is_the_default() -> None:
    assert CheckConfig.from_options() == CheckConfig()


def test_check_config_from_options_applies_each_and_the_timeout_last(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.toml"
    hosts.write_text('[hosts."example.org"]\nconcurrency = 1\n', encoding="utf-8")
    config = CheckConfig.from_options(allow_private=True, concurrency=4, per_host=3, host_interval=0.5, timeout=2.0,
                                      host_config=hosts)
    assert (config.allow_private, config.concurrency, config.per_host, config.host_interval) == (True, 4, 3, 0.5)
    assert (config.deadline, config.connect_timeout, config.read_timeout) == (2.0, 2.0, 2.0)
    # The file's missing keys take the defaults given beside it, not the library's.
    assert (config.host_limits["example.org"].concurrency, config.host_limits["example.org"].interval) == (1, 0.5)


@pytest.mark.parametrize("changes", [{"timeout": float("nan")}, {"concurrency": 0}, {"host_interval": -1.0}])
def test_check_config_from_options_refuses_bad_values(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        CheckConfig.from_options(**changes)


def test_archive_article_of_a_missing_slug_is_not_found(tmp_path: Path) -> None:
    from wikicore.audit.archiving import archive_article
    from wikicore.store import Wiki

    with Wiki.init(tmp_path / "w") as wiki, pytest.raises(NotFound):
        archive_article(wiki, "nope", archive=None)  # type: ignore[arg-type]


def test_archive_article_with_nothing_to_rescue_saves_nothing(tmp_path: Path) -> None:
    from wikicore.audit.archiving import archive_article
    from wikicore.store import Wiki

    seen: list[Any] = []
    with Wiki.init(tmp_path / "w") as wiki:
        before = wiki.save(article("foo"), "Add foo")
        outcome = archive_article(wiki, "foo", archive=None, on_rescued=seen.append)  # type: ignore[arg-type]
        assert outcome.revision is None and not outcome.rescue.changes
        assert seen == [outcome.rescue]
        assert wiki.latest("foo").id == before.id  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_every_review_format_has_a_renderer(fmt: str) -> None:
    from wikicore.report import diff
    from wikicore.report.render import formats, render

    log = diff.History(slug="foo", revisions=[])
    direct = {"text": diff.render_history_text([]), "json": diff.render_history_json([], "foo"),
              "html": diff.render_history_html([], "foo")}
    assert fmt in formats(log)
    assert "".join(render(log, fmt)) == direct[fmt]


def test_an_unknown_format_or_object_is_bad_input() -> None:
    from wikicore.report.diff import History
    from wikicore.report.render import render

    with pytest.raises(InvalidInput):
        render(History(slug="foo", revisions=[]), "markdown")
    with pytest.raises(InvalidInput):
        render(object(), "text")


def test_a_finished_progress_line_keeps_its_last_count(capsys: pytest.CaptureFixture[str]) -> None:
    from wikicore.cli.console import Progress

    line = Progress()
    line.show("imported 1 pages")
    line.show("imported 2 pages")  # within a tenth of a second: not drawn yet
    line.finish()
    assert capsys.readouterr().err == "\rimported 1 pages\rimported 2 pages\n"
