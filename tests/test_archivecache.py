"""The archive lookup cache: hits, misses cached too, TTL, failures never cached, shared SQLite file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

from wikicore.archive import Archive, Snapshot, SnapshotQuery
from wikicore.archive.cache import ArchiveCache, CachedArchive
from wikicore.errors import InvalidInput, NetworkError
from wikicore.links import LinkDB

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SNAP = Snapshot(
    "http://e.org/a",
    dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    200,
    "https://web.archive.org/web/20200102030405/http://e.org/a",
)


class Recording:
    """An Archive that counts calls and knows one capture."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.fail = False

    def nearest(self, queries: Sequence[SnapshotQuery]) -> dict[SnapshotQuery, Snapshot | None]:
        self.calls.append(list(queries))
        if self.fail:
            raise NetworkError("down")
        return {q: SNAP if q.url == SNAP.original else None for q in queries}

    def resolves(self, archive_url: str) -> Snapshot | None:
        self.calls.append(archive_url)
        return SNAP if archive_url == SNAP.archive_url else None

    def save(self, url: str) -> Snapshot | None:
        self.calls.append(("save", url))
        return None


def test_answers_and_misses_are_cached_until_the_ttl(tmp_path: Path) -> None:
    now = [T0]
    inner = Recording()
    path = tmp_path / "checks.sqlite"
    queries = [SnapshotQuery(SNAP.original, dt.date(2021, 1, 1)), SnapshotQuery("http://e.org/none")]
    with ArchiveCache(path, dt.timedelta(days=1), clock=lambda: now[0]) as cache:
        cached = CachedArchive(inner, cache)
        assert isinstance(cached, Archive)
        first = cached.nearest(queries)
        assert first == {queries[0]: SNAP, queries[1]: None} and len(inner.calls) == 1
        assert cached.resolves(SNAP.archive_url) == SNAP and cached.resolves("https://web.archive.org/web/1/x") is None
        assert len(inner.calls) == 3
    # A new process (new connection) within the TTL: nothing is asked.
    now[0] = T0 + dt.timedelta(hours=23)
    with ArchiveCache(path, dt.timedelta(days=1), clock=lambda: now[0]) as cache:
        cached = CachedArchive(inner, cache)
        assert cached.nearest(queries) == first
        assert cached.resolves(SNAP.archive_url) == SNAP and cached.resolves("https://web.archive.org/web/1/x") is None
        assert len(inner.calls) == 3
        # Only what is missing goes to the inner archive, in one batch.
        third = SnapshotQuery("http://e.org/new")
        cached.nearest([*queries, third])
        assert inner.calls[-1] == [third]
    now[0] = T0 + dt.timedelta(days=2)
    with ArchiveCache(path, dt.timedelta(days=1), clock=lambda: now[0]) as cache:
        CachedArchive(inner, cache).nearest(queries)
        assert inner.calls[-1] == queries


def test_failures_are_not_cached() -> None:
    inner = Recording()
    inner.fail = True
    with ArchiveCache(None, dt.timedelta(days=1)) as cache:
        cached = CachedArchive(inner, cache)
        with pytest.raises(NetworkError):
            cached.nearest([SnapshotQuery(SNAP.original)])
        inner.fail = False
        assert cached.nearest([SnapshotQuery(SNAP.original)]) == {SnapshotQuery(SNAP.original): SNAP}
        assert len(inner.calls) == 2


def test_saves_are_never_cached() -> None:
    inner = Recording()
    with ArchiveCache(None, dt.timedelta(days=1)) as cache:
        cached = CachedArchive(inner, cache)
        cached.save("http://e.org/a")
        cached.save("http://e.org/a")
    assert inner.calls == [("save", "http://e.org/a")] * 2


def test_shares_the_link_database_file(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    with LinkDB(path):
        pass
    with ArchiveCache(path, dt.timedelta(days=1)) as cache:
        cache.put_many("nearest", [("http://e.org/a", None, SNAP)])
    with LinkDB(path) as db:  # the link database still opens: its tables are untouched
        assert db.latest("http://e.org/a") is None
    with ArchiveCache(path, dt.timedelta(days=1)) as cache:
        assert cache.get("nearest", "http://e.org/a", None) == (True, SNAP)


def test_a_file_that_is_not_sqlite_is_bad_input(tmp_path: Path) -> None:
    bogus = tmp_path / "x.sqlite"
    bogus.write_bytes(b"not a database at all" * 50)
    with pytest.raises(InvalidInput):
        ArchiveCache(bogus, dt.timedelta(days=1))
