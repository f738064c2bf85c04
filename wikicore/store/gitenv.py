"""How every git process of the store is started: a clean environment, captured output, one-line errors.

Configuration that matters for safety (no hooks, no fsmonitor, no signing, no
automatic gc in the middle of a save) is passed through ``GIT_CONFIG_COUNT``,
never written into a config file, so a hostile repository config cannot run
code and nothing user-controlled ends up in ``.git/config``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Generator, Mapping
from pathlib import Path

from ..errors import StoreError

__all__ = ["CRASH_STEPS", "MIGRATE_CRASH_STEPS", "GitRunner", "alive", "crash_point", "git_env", "run_git", "text"]

#: The steps of a save at which ``WIKICORE_CRASH_AT`` can kill the process (tests only).
CRASH_STEPS = ("after-hash-object", "after-mktree", "after-commit-tree", "before-update-ref", "after-update-ref")
#: The steps of ``migrate`` at which ``WIKICORE_CRASH_AT`` can kill the process (tests only).
MIGRATE_CRASH_STEPS = ("migrate-after-marker", "migrate-after-build", "migrate-after-layout",
                       "migrate-after-publish", "migrate-after-index")

# Applied to every git process through the environment, so nothing user-controlled
# is ever written into a config file and a hostile repo config cannot run code.
# Automatic gc is off: the store repacks on its own schedule, under its writer lock
# (see :meth:`wikicore.store.upkeep.Upkeep.housekeeping`), never in the middle of a save.
_GIT_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    ("core.autocrlf", "false"),
    ("core.quotePath", "false"),
    ("commit.gpgSign", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("gc.autoDetach", "false"),
    ("maintenance.auto", "false"),
    ("diff.external", ""),
    ("i18n.logOutputEncoding", "UTF-8"),
)
# Inherited variables that would redirect git to other files than the wiki's.
_GIT_ENV_DROP = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_EXTERNAL_DIFF",
    "GIT_PAGER", "GIT_EDITOR", "GIT_SSH_COMMAND", "GIT_TRACE", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE",
)


def crash_point(step: str) -> None:
    """Test hook: die like ``kill -9`` at ``step`` when ``$WIKICORE_CRASH_AT`` names it."""
    if os.environ.get("WIKICORE_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def text(value: object) -> str:
    """A git answer as text (bytes decoded as ASCII, anything else as ``str``)."""
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a crash marker's writer, say)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def git_env(git_dir: Path | None) -> dict[str, str]:
    """The environment of every git process: inherited, minus redirections, plus our safe config."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP and not k.startswith("GIT_CONFIG_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "LANGUAGE": "C"})
    env["GIT_CONFIG_COUNT"] = str(len(_GIT_CONFIG))
    for index, (key, value) in enumerate(_GIT_CONFIG):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    if git_dir is not None:
        env["GIT_DIR"] = str(git_dir)
    return env


def run_git(args: list[str], env: Mapping[str, str], cwd: Path, data: bytes | None = None,
            check: bool = True) -> bytes:
    """Run git with captured output; a failure becomes one :class:`StoreError` line."""
    try:
        done = subprocess.run(
            ["git", *args], input=data, cwd=cwd, env=dict(env), capture_output=True, check=False,
            stdin=None if data is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise StoreError("git is not installed (or not on PATH)") from None
    if check and done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        raise StoreError(f"git {args[0]} failed: {detail}")
    return done.stdout


class GitRunner:
    """Where one wiki's repository is and how git runs there: from its directory, in :func:`git_env`'s environment.

    Every part of the store runs git through one of these, so no part builds
    an environment of its own (and none can forget to drop ``GIT_DIR``).
    """

    def __init__(self, cwd: Path, git_dir: Path, common_dir: Path) -> None:
        self.cwd = cwd
        self.git_dir = git_dir
        # Refs, locks, objects and info/exclude live in the common dir (they differ in a linked worktree).
        self.common_dir = common_dir
        self.env = git_env(git_dir)

    def set_config(self, key: str, value: str) -> None:
        """Add one setting to every git this runner starts from now on (as :data:`_GIT_CONFIG` is passed)."""
        index = int(self.env["GIT_CONFIG_COUNT"])
        self.env = {**self.env, "GIT_CONFIG_COUNT": str(index + 1),
                    f"GIT_CONFIG_KEY_{index}": key, f"GIT_CONFIG_VALUE_{index}": value}

    def run(self, args: list[str], data: bytes | None = None, check: bool = True,
            env: Mapping[str, str] | None = None) -> bytes:
        """``git args`` as :func:`run_git` runs it; ``env`` adds variables (a commit's identity, say)."""
        return run_git(args, {**self.env, **env} if env else self.env, cwd=self.cwd, data=data, check=check)

    def stream(self, args: list[str], check: bool = True) -> Generator[bytes, None, None]:
        """``git args``' standard output in chunks as it comes; closing the iterator early ends the process.

        For walks a caller stops once it has what it needs (a log read until ``limit``):
        the rest is never produced, where :meth:`run` would wait for all of it. A process
        that runs to its end and fails raises :class:`StoreError` when ``check``.
        """
        try:
            proc = subprocess.Popen(["git", *args], cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise StoreError("git is not installed (or not on PATH)") from None
        assert proc.stdout is not None
        ended = False
        try:
            while chunk := os.read(proc.stdout.fileno(), 1 << 16):
                yield chunk
            ended = True
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if ended and check and code != 0:
            raise StoreError(f"git {args[0]} failed (exit {code})")
