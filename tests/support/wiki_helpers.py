"""Helpers for the wiki tests: small articles and direct git calls for assertions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from wikicore.models import Article


def article(slug: str = "foo", title: str | None = None, claims: list[Any] | None = None,
            sections: list[dict[str, Any]] | None = None, refs: list[dict[str, Any]] | None = None) -> Article:
    """An article whose lead holds ``claims`` (texts, or claim dicts)."""
    lead = [c if isinstance(c, dict) else {"text": c} for c in (claims or ["A first claim. "])]
    return Article.model_validate({
        "slug": slug,
        "title": title or slug.title(),
        "lead": [{"claims": lead}],
        "sections": sections or [],
        "references": refs or [],
    })


def with_claims(base: Article, *texts: str) -> Article:
    """``base`` with extra lead claims appended (given ids derived from their text)."""
    data = base.model_dump(exclude_defaults=True)
    data["lead"][0]["claims"].extend({"text": t} for t in texts)
    return Article.model_validate(data)


def git(path: Path, *args: str) -> str:
    """Run git in the wiki for an assertion; the tests see its output, users never do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def tip(path: Path) -> str:
    return git(path, "rev-parse", "refs/heads/main").strip()


def fsck_clean(path: Path) -> None:
    """``git fsck`` passes, reporting no broken or missing object (dangling ones are fine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(["git", "-C", str(path), "fsck", "--full", "--strict", "--no-dangling"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for word in ("error", "missing", "broken", "bad"):
        assert word not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr
