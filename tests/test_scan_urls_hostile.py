"""`wikicore audit --urls DIR` against Parquet tables nobody should trust: real files written with pyarrow.

A table that is not what a scan writes is bad input (exit 2, naming the file),
never an internal error; values no URL can be are not checked and never reach
the link history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.cli import main

from .servers.hostile_web import HostileWeb

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _table(scan: Path, columns: dict[str, Any], name: str = "part-000000.parquet", **options: Any) -> Path:
    (scan / "urls").mkdir(parents=True, exist_ok=True)
    path = scan / "urls" / name
    pq.write_table(pa.table(columns), path, **options)
    return path


def _audit(runner: CliRunner, scan: Path, cache: Path) -> Any:
    return runner.invoke(main, ["audit", "--urls", str(scan), "--allow-private", "--cache", str(cache),
                                "--format", "json", "--fail-on", "never"])


def test_one_huge_url_in_a_tiny_file_is_not_checked_nor_cached(
    runner: CliRunner, tmp_path: Path, web: HostileWeb
) -> None:
    huge = web.url("/ok?") + "a" * (40 * 1024 * 1024)
    path = _table(tmp_path, {"url": [huge, web.url("/ok")]}, compression="zstd")
    assert path.stat().st_size < 100_000  # 40 MB of text in a few KB
    cache = tmp_path / "links.sqlite"
    result = _audit(runner, tmp_path, cache)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["urls"] == 1 and summary["too_long"] == 1
    assert cache.stat().st_size < 1024 * 1024  # the link history holds no trace of it
    assert not any(len(record.path) > 10_000 for record in web.records)


def test_a_row_group_over_the_read_budget_is_refused_from_the_footer(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wikicore.scan.urlaudit as urlaudit

    monkeypatch.setattr(urlaudit, "MAX_GROUP_BYTES", 64 * 1024)
    path = _table(tmp_path, {"url": [f"http://127.0.0.1:9/{i:06d}" for i in range(20_000)]}, compression="zstd")
    result = _audit(runner, tmp_path, tmp_path / "c.sqlite")
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and "row group 0" in result.stderr


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, 2], pa.int64()),
        pa.array([["http://a/"], []], pa.list_(pa.string())),
        pa.array([{"u": "http://a/"}, {"u": "http://b/"}]),
        pa.array([b"http://a/\xff\xfe", b"\x80"], pa.binary()),
    ],
    ids=["int", "list", "struct", "binary"],
)
def test_a_url_column_that_is_not_text_is_bad_input(runner: CliRunner, tmp_path: Path, column: Any) -> None:
    path = _table(tmp_path, {"url": column})
    result = _audit(runner, tmp_path, tmp_path / "c.sqlite")
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and "not text" in result.stderr
    assert not (tmp_path / "url_checks").exists()


def test_a_second_file_of_another_shape_is_bad_input_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    _table(tmp_path, {"url": ["http://127.0.0.1:9/a"]})
    second = _table(tmp_path, {"url": pa.array([7], pa.int32())}, name="part-000001.parquet")
    result = _audit(runner, tmp_path, tmp_path / "c.sqlite")
    assert result.exit_code == 2, result.output
    assert str(second) in result.stderr and "Traceback" not in result.output
