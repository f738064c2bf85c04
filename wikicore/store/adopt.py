"""Whether an existing git repository can become a wiki (``wikicore init --adopt``) without a checkout going stale."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInput
from .branch import BRANCH
from .gitenv import git_env, run_git

__all__ = ["check_adoptable"]


def check_adoptable(path: Path) -> None:
    """Refuse to adopt a repository where a checkout of ``main`` would go stale under the wiki's saves.

    Saves move ``main`` without touching any working tree; a checkout of it then
    sees every save as a change to undo, and ``git commit -a`` there reverts them
    all. A repository without commits is made bare, like a new wiki.
    """
    env = git_env(path / ".git")
    bare = run_git(["rev-parse", "--is-bare-repository"], env, cwd=path, check=False).decode().strip()
    if bare == "true":
        return
    has_commits = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], env, cwd=path, check=False).strip()
    listing = run_git(["worktree", "list", "--porcelain"], env, cwd=path, check=False).decode("utf-8", "replace")
    checked_out = f"branch {BRANCH}" in listing.splitlines()
    tracked = run_git(["ls-files", "-z"], env, cwd=path, check=False)
    if not has_commits and not tracked and not run_git(["rev-parse", "--verify", "--quiet", BRANCH], env, cwd=path,
                                                       check=False).strip():
        run_git(["config", "core.bare", "true"], env, cwd=path)
        return
    if checked_out:
        raise InvalidInput(
            f"{path} has a checkout of {BRANCH.removeprefix('refs/heads/')}: a wiki's saves move that branch without "
            "updating checkouts, so `git commit -a` there would revert them. Make a bare clone the wiki instead: "
            f"git clone --bare {path} {path}-wiki/.git && wikicore --wiki {path}-wiki init"
        )
