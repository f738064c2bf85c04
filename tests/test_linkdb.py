"""The observation store and the IABot-style dead-link rule."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wikicore.errors import InvalidInput
from wikicore.links import DeadState, LinkDB, Observation, dead_state
from wikicore.links.history import SCHEMA_VERSION

T0 = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://example.org/a"


def obs(days: float, status: str = "dead", url: str = URL) -> Observation:
    return Observation(url, T0 + timedelta(days=days), status, 404 if status == "dead" else 200)


def test_record_latest_history_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    first = Observation(URL, T0, "live", 200, "https://example.org/b", ("https://example.org/b",), None)
    second = Observation(URL, T0 + timedelta(hours=1), "error", None, URL, (), "timed out")
    with LinkDB(path) as db:
        db.record(first)
        db.record(second)
        db.record(obs(0, "live", url="https://other.example/"))
    with LinkDB(path) as db:  # persisted across runs
        assert db.history(URL) == [first, second]
        assert db.latest(URL) == second
        assert db.latest("https://nowhere.example/") is None


def test_wal_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "checks.sqlite"
    LinkDB(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(InvalidInput, match="schema version"):
        LinkDB(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(InvalidInput):
        LinkDB(path)


def test_naive_times_are_refused() -> None:
    with LinkDB(":memory:") as db, pytest.raises(InvalidInput):
        db.record(Observation(URL, datetime(2026, 1, 1), "live"))


def test_fresh_respects_ttl() -> None:
    with LinkDB(":memory:") as db:
        db.record(obs(0, "live"))
        assert db.fresh(URL, timedelta(days=1), now=T0 + timedelta(hours=23)) is not None
        assert db.fresh(URL, timedelta(days=1), now=T0 + timedelta(days=1)) is None


def test_injected_clock_drives_fresh() -> None:
    now = [T0 + timedelta(hours=2)]
    with LinkDB(":memory:", clock=lambda: now[0]) as db:
        db.record(obs(0, "live"))
        assert db.fresh(URL) is not None
        now[0] = T0 + timedelta(days=2)
        assert db.fresh(URL) is None


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        pytest.param([], DeadState(), id="never-seen"),
        pytest.param([(0, "live")], DeadState(), id="live"),
        pytest.param([(0, "dead")], DeadState(1, T0, False), id="one-failure"),
        pytest.param([(0, "dead"), (0.01, "dead"), (0.02, "dead")], DeadState(3, T0, False), id="three-in-an-hour"),
        pytest.param([(0, "dead"), (3, "dead"), (5.9, "dead")], DeadState(3, T0, False), id="third-too-soon"),
        pytest.param([(0, "dead"), (3, "dead"), (6, "dead")], DeadState(3, T0, True), id="confirmed"),
        pytest.param([(0, "dead"), (1, "dead"), (3, "dead"), (6, "dead")], DeadState(4, T0, True), id="extra-failure"),
        pytest.param(
            [(0, "dead"), (3, "dead"), (4, "live"), (5, "dead"), (8, "dead")],
            DeadState(2, T0 + timedelta(days=5), False),
            id="live-resets",
        ),
        pytest.param(
            [(0, "dead"), (3.5, "blocked"), (4, "soft-404"), (6, "dead"), (9, "dead")],
            DeadState(3, T0, True),
            id="blocked-and-soft-404-neither-count-nor-reset",
        ),
        pytest.param(
            [(0, "error"), (3, "error"), (6, "error")], DeadState(3, T0, True), id="persistent-errors-count",
        ),
        pytest.param(
            [(0, "error"), (1, "dead"), (3, "error"), (5, "live"), (6, "error")],
            DeadState(1, T0 + timedelta(days=6), False),
            id="errors-and-dead-mix-then-live-resets",
        ),
    ],
)
def test_dead_rule(history: list[tuple[float, str]], expected: DeadState) -> None:
    observations = [obs(days, status) for days, status in history]
    assert dead_state(observations) == expected
    with LinkDB(":memory:") as db:
        db.record_many(reversed(observations))  # insertion order does not matter, time does
        assert db.dead_state(URL) == expected


def test_rule_parameters() -> None:
    observations = [obs(0), obs(1)]
    assert dead_state(observations, failures=2, spacing=timedelta(days=1)).confirmed_dead
    assert not dead_state(observations, failures=2, spacing=timedelta(days=2)).confirmed_dead


def test_thread_safe_writes(tmp_path: Path) -> None:
    with LinkDB(tmp_path / "db.sqlite") as db:

        def work(n: int) -> None:
            for i in range(50):
                db.record(obs(i / 100, "live", url=f"https://example.org/{n}"))
                db.latest(f"https://example.org/{n}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(len(db.history(f"https://example.org/{n}")) == 50 for n in range(8))
