"""What the store lets into a commit, checked before git sees it, and how it reads an article back.

Authors and messages end up in commit headers and bodies, where a newline or
an angle bracket would forge or break a header; slugs become file names; and
an article is stored only if loading it back would accept it
(:func:`stored_bytes`), because the loader's limits are what every reader
applies. All of this is plain Python without I/O (but for reading the user's
git identity once, for the default author), so it is checked before the
writer lock is taken: other writers wait only for the git part of a write.
Revisions from users are parsed where they are resolved, in :mod:`.branch`.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from typing import Any

from ..errors import InvalidArticle, InvalidInput, InvalidSlug, Problem
from ..models import Article, check_slug
from ..serialize import MAX_BYTES, MAX_DEPTH, dump_data, loads, to_data

__all__ = [
    "DEFAULT_AUTHOR",
    "MAX_MESSAGE",
    "check_message",
    "parse_article",
    "parse_author",
    "stored_bytes",
    "validate_slug",
]

#: Who commits when neither the caller nor ``$WIKICORE_AUTHOR`` says.
DEFAULT_AUTHOR = "wikicore <wikicore@localhost>"
#: Longest commit message we accept (characters).
MAX_MESSAGE = 64 * 1024

_AUTHOR_RE = re.compile(r"^\s*([^<>]+?)\s*<([^<>\s]+)>\s*$")


def parse_author(author: str | None) -> tuple[str, str]:
    """Split ``"Name <mail>"`` into ``(name, mail)``; ``None`` takes ``$WIKICORE_AUTHOR`` or the default.

    Names and mails end up in commit headers, where a newline or an angle
    bracket would forge or break a header, so both are refused.
    """
    value = author if author is not None else os.environ.get("WIKICORE_AUTHOR") or _user_identity() or DEFAULT_AUTHOR
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidInput(f"author {value!r} contains a control character")
    match = _AUTHOR_RE.fullmatch(value)
    if not match or not match.group(1).strip():
        raise InvalidInput(f"author {value!r} is not of the form 'Name <mail>'")
    return match.group(1).strip(), match.group(2)


@functools.cache
def _user_identity() -> str | None:
    """``Name <mail>`` as git would sign this user's commits, or None: what the user set up once for git.

    ``GIT_AUTHOR_NAME``/``GIT_AUTHOR_EMAIL`` first, then the user's global git
    config (``~/.gitconfig``, ``$XDG_CONFIG_HOME/git/config``), as git does.
    Only the global config: a repository's own config is not the user's word (the
    wiki may be someone else's clone). Read once per process; both parts or none.
    """
    name, email = os.environ.get("GIT_AUTHOR_NAME"), os.environ.get("GIT_AUTHOR_EMAIL")
    if not (name and email):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        try:
            out = subprocess.run(["git", "config", "--global", "--includes", "--get-regexp", r"^user\.(name|email)$"],
                                 capture_output=True, env=env, cwd=os.path.expanduser("~") if "HOME" in env else None,
                                 check=False, timeout=10).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError):
            return None
        config = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
        name, email = name or config.get("user.name"), email or config.get("user.email")
    if not (name and email):
        return None
    candidate = f"{name.strip()} <{email.strip()}>"
    return candidate if _AUTHOR_RE.fullmatch(candidate) and candidate.isprintable() else None


def check_message(message: str) -> str:
    """A commit message as stored (one final newline), or :class:`InvalidInput` for an empty, huge or binary one."""
    if not isinstance(message, str) or not message.strip():
        raise InvalidInput("the commit message is empty")
    if len(message) > MAX_MESSAGE:
        raise InvalidInput(f"the commit message is longer than {MAX_MESSAGE} characters")
    for index, ch in enumerate(message):
        if (ord(ch) < 0x20 and ch not in "\n\t") or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            raise InvalidInput(f"the commit message has control character U+{ord(ch):04X} at {index}")
    return message.rstrip("\n") + "\n"


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it may name an article, else raise :class:`InvalidSlug` (see ``check_slug``)."""
    if not isinstance(slug, str):
        raise InvalidSlug(f"slug must be a string, not {type(slug).__name__}")
    try:
        return check_slug(slug)  # fullmatch throughout: no trailing newline slips through
    except ValueError as error:
        raise InvalidSlug(str(error)) from None


def _depth(value: Any) -> int:
    """Nesting depth as the YAML composer counts it: every node, scalars and keys included, is one level."""
    deepest, stack = 1, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if children:
            deepest = max(deepest, level + 1)  # its keys and scalar items
            stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def stored_bytes(article: Article) -> bytes:
    """The bytes an article is stored as, after refusing what loading it back would refuse.

    Loading enforces :data:`wikicore.serialize.MAX_BYTES` (on characters, and on
    bytes for files) and :data:`wikicore.serialize.MAX_DEPTH`; a save that let
    more through would store an article nobody can read again (a 6 MB wikitext
    once became a 12 MB blob that ``show`` refused). Every write path (save,
    rename, bulk import, import-dump) goes through here.
    """
    data = to_data(article)
    depth = _depth(data)
    source = f"article {article.slug!r}"
    if depth > MAX_DEPTH:
        raise InvalidArticle([Problem(f"nesting {depth} levels deep; the limit is {MAX_DEPTH}")], source)
    payload = dump_data(data).encode("utf-8")
    if len(payload) > MAX_BYTES:
        raise InvalidArticle([Problem(
            f"it would be stored as {len(payload):,} bytes, over the {MAX_BYTES:,} that can be read back"
        )], source)
    return payload


def parse_article(data: bytes, source: str) -> Article:
    """The article stored as ``data``, validated; ``source`` (``<commit>:<path>``, say) names it in errors.

    Every read of an article in the store comes through here, the mirror of
    :func:`stored_bytes`.
    """
    try:
        return loads(data.decode("utf-8"), "yaml", source=source)
    except UnicodeDecodeError:
        raise InvalidArticle([], f"{source}: not UTF-8") from None
