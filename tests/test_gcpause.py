"""The collector pause around imports (issue 14): counted, thread-safe, and leaves gc as it found it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from wikicore.errors import BudgetExceeded
from wikicore.gcpause import paused_gc
from wikicore.mediawiki.importer import import_wikitext


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
