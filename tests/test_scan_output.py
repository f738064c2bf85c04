"""`scan -o OUT`: an output path that cannot hold a scan is bad input; a killed scan's leftovers are removed.

Real symlinks, real files, a real process killed with SIGKILL while it holds a scan's working directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main

pytest.importorskip("distributed")

from wikicore.scan import scan_dump

from .test_scan import TODAY, write_dump

ROOT = Path(__file__).resolve().parent.parent


def _scan(dump: Path, out: Path | str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["scan", str(dump), "-o", str(out), "--workers", "1"])
    return result.exit_code, result.output


def test_an_output_in_a_symlink_loop_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    code, output = _scan(write_dump(tmp_path / "d.xml"), tmp_path / "a" / "out")
    assert code == 2, output
    assert "Traceback" not in output and "a/out" in output


def test_an_output_under_a_regular_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, output = _scan(write_dump(tmp_path / "d.xml"), tmp_path / "file" / "out")
    assert code == 2, output
    assert "file/out" in output and "Traceback" not in output


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("out", ["/proc/wikicore-scan-out", "/proc/self/wikicore-out", "/proc/self"])
def test_an_output_under_proc_is_bad_input(tmp_path: Path, out: str) -> None:
    code, output = _scan(write_dump(tmp_path / "d.xml"), out)
    assert code == 2, output
    assert "Traceback" not in output


def test_a_dump_path_in_a_symlink_loop_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "loop.xml").symlink_to(tmp_path / "loop.xml")
    code, output = _scan(tmp_path / "loop.xml", tmp_path / "out")
    assert code == 2, output
    assert "Traceback" not in output


_HOLDER = """
import sys, time
from pathlib import Path
from wikicore.scan.engine import _make_output
created, partial, lock = _make_output(Path(sys.argv[1]))
print(partial, flush=True)
time.sleep(120)
"""


def _holder(out: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process that made a scan's working directory in ``out`` and holds it, as a running scan does."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    partial = Path(process.stdout.readline().strip())
    assert partial.is_dir() and partial.name.startswith(".scan-partial-")
    return process, partial


def test_a_killed_scans_working_directory_is_removed_by_the_next_scan(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process, partial = _holder(out)
    (partial / "articles").mkdir()  # half a table, as a killed worker leaves it
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert partial.is_dir()  # SIGKILL runs no cleanup
    scan_dump(write_dump(tmp_path / "d.xml"), out, workers=1, today=TODAY)
    assert not partial.exists()
    assert not list(out.glob(".scan-partial-*"))


def test_a_running_scans_working_directory_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process, partial = _holder(out)
    try:
        scan_dump(write_dump(tmp_path / "d.xml"), out, workers=1, today=TODAY)
        assert partial.is_dir()
    finally:
        process.kill()
        process.wait(30)
