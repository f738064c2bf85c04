"""The collector pause around imports (half a big import's time): counted, thread-safe, leaves gc as it found it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wikicore.errors import BudgetExceeded
from wikicore.gcpause import paused_gc
from wikicore.importers.batch import import_paths
from wikicore.mediawiki.importer import import_wikitext
from wikicore.serialize import dumps
from wikicore.store import Wiki

from .support.wiki_helpers import article


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_restored_after_even_nested() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_restored_after_an_exception() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_threads_restore_it_once_the_last_leaves() -> None:
    gc.enable()
    first_in, second_in, release_first, release_second = (threading.Event() for _ in range(4))

    def hold(entered: threading.Event, release: threading.Event) -> None:
        with paused_gc():
            entered.set()
            release.wait(10)

    one = threading.Thread(target=hold, args=(first_in, release_first))
    two = threading.Thread(target=hold, args=(second_in, release_second))
    one.start()
    first_in.wait(10)
    two.start()
    second_in.wait(10)
    release_first.set()  # the first one in leaves first: the second still runs paused
    one.join(10)
    assert not gc.isenabled()
    release_second.set()
    two.join(10)
    assert gc.isenabled()


def test_an_import_leaves_the_collector_as_it_found_it() -> None:
    gc.enable()
    import_wikitext("A.\n\n== B ==\nC.", title="T")
    assert gc.isenabled()
    with pytest.raises(BudgetExceeded):  # a failure inside the pause: the pause must still end
        import_wikitext("{{a|" * 4000, title="T")
    assert gc.isenabled()


def test_a_batch_of_files_is_read_and_stored_with_the_collector_paused(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`import DIR` keeps every article until its one commit: the collector's full passes would walk them all."""
    import wikicore.importers
    import wikicore.store.bulk

    seen: list[bool] = []
    real_import, real_stored = wikicore.importers.import_text, wikicore.store.bulk.stored_bytes

    def import_text(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real_import(*args, **kwargs)

    def stored_bytes(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real_stored(*args, **kwargs)

    monkeypatch.setattr(wikicore.importers, "import_text", import_text)
    monkeypatch.setattr(wikicore.store.bulk, "stored_bytes", stored_bytes)
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(dumps(article(name)), encoding="utf-8")
    gc.enable()
    articles = import_paths(sorted(tmp_path.glob("*.yaml")))
    with Wiki.init(tmp_path / "w") as wiki:
        wiki.import_articles(articles, "two")
    assert seen == [False] * 4 and gc.isenabled()
