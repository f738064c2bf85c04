"""The one safe writer : what sits at an output path decides how it is written.

Every case runs the real CLI (`-o`, `schema --out`) or the real writer on real files, FIFOs,
symlinks and the system's own /dev/null (which must stay a character device).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput
from wikicore.output import check_writable, is_stdout, write_file

from .conftest import SEED, SEED_ARTICLE

GOLDEN = SEED_ARTICLE.read_text(encoding="utf-8")


def _convert(runner: CliRunner, out: str | Path) -> tuple[int, str]:
    result = runner.invoke(main, ["convert", str(SEED), "--from", "text", "-o", str(out)])
    return result.exit_code, result.stderr


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_a_new_file_is_written_whole(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "a.yaml"
    code, _ = _convert(runner, out)
    assert code == 0
    assert out.read_text(encoding="utf-8") == GOLDEN
    assert _no_temp_files(tmp_path)


def test_fifo_is_written_through_never_replaced(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:  # blocks until the writer opens it
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code, stderr = _convert(runner, fifo)
    reader.join(timeout=30)
    assert code == 0, stderr
    assert not reader.is_alive()
    assert received == [GOLDEN.encode("utf-8")]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_dev_null_stays_a_character_device(runner: CliRunner) -> None:
    before = os.stat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    code, stderr = _convert(runner, "/dev/null")
    assert code == 0, stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, stat.S_IMODE(after.st_mode)) == (
        before.st_ino, before.st_rdev, stat.S_IMODE(before.st_mode)
    )


def test_symlink_is_followed_and_stays_a_link(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o644)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    code, stderr = _convert(runner, link)
    assert code == 0, stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == GOLDEN
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _no_temp_files(tmp_path)


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "sub" / "new.txt")
    write_file(link, "hello\n")
    assert link.is_symlink()
    assert (tmp_path / "sub" / "new.txt").read_text(encoding="utf-8") == "hello\n"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_replacing_a_file_keeps_its_mode(runner: CliRunner, tmp_path: Path, mode: int) -> None:
    out = tmp_path / "a.yaml"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(mode)
    inode = out.stat().st_ino
    code, _ = _convert(runner, out)
    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode
    assert out.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert out.read_text(encoding="utf-8") == GOLDEN


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_umasks_permissions(tmp_path: Path, umask: int, expected: int) -> None:
    # The umask is per process: set it in a child, never in the test runner.
    out = tmp_path / "new.yaml"
    code = textwrap.dedent(
        f"""
        import os, sys
        os.umask({umask:#o})
        from wikicore.cli import main
        sys.argv = ["wikicore", "convert", {str(SEED)!r}, "--from", "text", "-o", {str(out)!r}]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == expected


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """A real mid-write failure: RLIMIT_FSIZE makes the kernel refuse bytes past 4 KiB (EFBIG)."""
    out = tmp_path / "a.yaml"
    out.write_text("the old content\n", encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        from wikicore.cli import main
        sys.argv = ["wikicore", "convert", {str(SEED)!r}, "--from", "text", "-o", {str(out)!r}]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {out}: cannot write: file too large"]
    assert "Traceback" not in done.stderr
    assert out.read_text(encoding="utf-8") == "the old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]


def test_dev_stdout_reaches_stdout_and_an_appended_file_keeps_its_start(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("before\n", encoding="utf-8")
    with open(log, "a", encoding="utf-8") as handle:  # the shell's `>> log.txt`
        done = subprocess.run(
            [sys.executable, "-m", "wikicore", "convert", str(SEED), "--from", "text", "-o", "/dev/stdout"],
            stdout=handle, stderr=subprocess.PIPE, text=True, check=False,
        )
    assert done.returncode == 0, done.stderr
    assert log.read_text(encoding="utf-8") == "before\n" + GOLDEN


def test_dev_stderr_through_a_pipe(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wikicore", "convert", str(SEED), "--from", "text", "--to", "json", "-o", "/dev/stderr"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert '"slug": "azerbaijan-russia-relations"' in done.stderr


def test_a_directory_or_a_missing_directory_is_one_line_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    code, stderr = _convert(runner, tmp_path)
    assert code == 2 and stderr == f"error: {tmp_path}: cannot write: is a directory\n"
    missing = tmp_path / "no" / "a.yaml"
    code, stderr = _convert(runner, missing)
    assert code == 2 and stderr.count("\n") == 1 and f"directory {tmp_path / 'no'} does not exist" in stderr


def test_read_only_directory_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through directory permissions")
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    code, stderr = _convert(runner, locked / "a.yaml")
    assert code == 2 and "permission denied" in stderr


def test_schema_out_under_proc_is_exit_2_one_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema", "--out", "/proc/nope"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: /proc/nope: ")


def test_audit_refuses_an_unwritable_report_path_before_checking(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["audit", str(SEED_ARTICLE), "--offline", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_diff_and_report_outputs_use_the_writer(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "report"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(main, ["audit", str(SEED_ARTICLE), "--offline", "--format", "json", "-o", str(fifo), "-q"])
    reader.join(timeout=30)
    assert result.exit_code in (0, 1), result.stderr
    assert received and received[0].startswith(b"{")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_library_helpers() -> None:
    assert is_stdout("-") and is_stdout("/dev/stdout") and is_stdout(None) and not is_stdout("out.txt")
    with pytest.raises(InvalidInput, match="does not exist"):
        check_writable("/nonexistent-dir-for-wikicore/x.html")
    with pytest.raises(ValueError):
        write_file("-", "x")


def test_ctrl_c_while_writing_is_exit_130_and_leaves_the_fifo(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) ends with `interrupted` and exit 130, as the README documents."""
    import signal
    import time

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "wikicore", "convert", str(SEED_ARTICLE), "-o", str(fifo)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A suite started in the background (`make test &`, some CI runners) inherits SIGINT ignored,
        # and Python leaves an ignored SIGINT ignored: give the child the terminal's default back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wchan = Path(f"/proc/{process.pid}/wchan")

    def blocked_on_the_fifo() -> bool:  # the kernel's wait for a FIFO's other end
        try:
            return wchan.read_text() in ("wait_for_partner", "fifo_open")
        except OSError:
            return False

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it blocks opening the FIFO (no reader yet)
        if blocked_on_the_fifo():
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the writer never blocked on the FIFO")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr == "interrupted\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
