"""Real reports with hard data, shared by the browser tests and the terminal-escaping tests.

The audit is a real one: the bundled Japanese article and a stress article audited live
against the hostile little web and a Wayback-compatible server, both on 127.0.0.1. The
stress article holds what broke the old HTML reports' layout: long unspaced Cyrillic titles,
long archive urls, many findings. The wiki is a real git repository whose history holds
commit messages, author names and claims with terminal escapes and bidi overrides.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import Any

from wikicore.archive import WaybackArchive
from wikicore.audit import AuditReport, audit_articles
from wikicore.models import Article
from wikicore.net import CheckConfig
from wikicore.serialize import load_path
from wikicore.store import Wiki

from ..conftest import SEED_ARTICLE
from ..servers.hostile_web import HostileWeb
from ..servers.wayback import FakeWayback
from .wiki_helpers import git

#: Loopback servers need allow_private; no retries or host spacing keeps the suite quick.
CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)
TODAY = dt.date(2026, 11, 26)

#: One Cyrillic "word" of 96 letters: it cannot wrap at a space anywhere.
LONG_CYRILLIC = "Российскоазербайджанскиемежгосударственныеотношенияпослераспадасоветскогосоюзавпериодсдевяностых"
ESC = "\x1b"
#: What a hostile commit or page would send a terminal: a colour, a window title, a cursor
#: move and a right-to-left override that makes "txt.exe" read as "exe.txt".
HOSTILE = f"{ESC}[31mred{ESC}[0m {ESC}]0;pwned\x07 {ESC}[2J \u202etxt.exe\u202c \u2066iso\u2069 \x9b31m"
#: Article text may not hold control characters (the model refuses them), but bidi controls pass.
BIDI = "\u202etxt.exe\u202c and \u2067isolated\u2069"


def stress_article(web: HostileWeb, wayback: FakeWayback) -> Article:
    """An article whose references cover every verdict, with long titles and long archive urls."""
    long_path = "/page/" + "-".join(["archive", "of", "the", "ministry", "press", "releases"] * 4)
    archived = web.url(long_path + "?id=1234567890&lang=ru&section=foreign-policy&year=1998")
    wayback.add({"url": archived, "timestamp": "20120528000000"})
    dead_archived = web.url("/missing/" + "x" * 60)
    wayback.add({"url": dead_archived, "timestamp": "20150101000000"})
    refs: list[dict[str, Any]] = [
        {"id": "live", "type": "web", "url": archived, "title": LONG_CYRILLIC, "access_date": "2013-01-01"},
        {"id": "live-2", "type": "web", "url": web.url("/ok"), "title": "A page that still works"},
        {"id": "dead", "type": "web", "url": web.url("/gone"), "title": LONG_CYRILLIC + "ещё"},
        {
            "id": "dead-archived", "type": "web", "url": dead_archived, "access_date": "2015-02-01",
            "title": "Пресс-релиз министерства иностранных дел о двусторонних отношениях",
        },
        {"id": "soft", "type": "web", "url": web.url("/soft/" + "y" * 40), "title": "A soft 404"},
        {"id": "blocked", "type": "web", "url": web.url("/forbidden"), "title": "Behind a wall"},
        {"id": "botwall", "type": "web", "url": web.url("/botwall"), "title": "A bot challenge"},
        {"id": "error", "type": "web", "url": web.url("/error"), "title": "Server error"},
        {"id": "js", "type": "web", "url": "javascript:alert(1)", "title": "<script>alert(1)</script>"},
        {"id": "hostile", "type": "web", "url": web.url("/ok?q=" + "\u202e"), "title": BIDI},
        {"id": "book", "type": "book", "title": LONG_CYRILLIC, "isbn": "978-0-306-40615-7"},
    ]
    claims = [{"id": f"c-{i:02d}", "text": f"Claim {i} cites {r['id']}. ", "citations": [{"ref": r["id"]}]}
              for i, r in enumerate(refs)]
    claims += [{"id": f"c-u{i}", "text": f"{LONG_CYRILLIC} uncited {i}. "} for i in range(4)]
    return Article.model_validate({
        "slug": "stress",
        "title": LONG_CYRILLIC,
        "language": "ru",
        "lead": [{"claims": claims}],
        "references": refs,
    })


def live_audit(web: HostileWeb, wayback: FakeWayback, db: Path) -> AuditReport:
    """The bundled Japanese article and the stress article, audited live on loopback."""
    seed = load_path(SEED_ARTICLE)
    archive = WaybackArchive(wayback.base_url, use_cdx=False, retries=0)
    return audit_articles(
        [(stress_article(web, wayback), "0123456789abcdef0123"), (seed, None)],
        archive=archive, config=CONFIG, db_path=db, today=TODAY,
    )


def hostile_wiki(path: Path) -> tuple[Wiki, str]:
    """A wiki whose article was imported and edited in three hostile revisions; returns it and the slug."""
    wiki = Wiki.init(path)
    seed = load_path(SEED_ARTICLE)
    first = wiki.save(seed, "Import the seed", author="Importer <importer@example.org>")
    data = seed.model_dump(exclude_defaults=True)
    claims = [c for p in data["lead"] for c in p["claims"]]
    claims[0]["text"] = claims[0]["text"].replace("二国間関係", "友好関係")
    claims[1]["text"] = f"{BIDI} {LONG_CYRILLIC}"
    data["title"] = seed.title + " " + LONG_CYRILLIC
    wiki.save(Article.model_validate(data), "Reword", author="Mallory <mallory@example.org>", base=first.id)
    second = _rewrite_tip(path, f"Reword {HOSTILE}\n\nA body line {ESC}[2J", f"Mallory {HOSTILE}")
    claims[0]["text"] = claims[0]["text"] + " " + "https://web.archive.org/web/20120528000000/" + "a" * 120
    data["references"][0]["url"] = "https://web.archive.org/web/20120528000000/http://example.org/" + "b" * 100
    wiki.save(Article.model_validate(data), "Add an archive link", author="Editor <editor@example.org>",
              base=second)
    return wiki, seed.slug


def _rewrite_tip(path: Path, message: str, author: str) -> str:
    """Replace the tip commit by one with the same tree and parent but a hostile message and author.

    The store refuses control characters in what it writes; plain git, a dump or another tool
    does not, and the readers must stay safe.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL="mallory@example.org",
               GIT_COMMITTER_NAME="Mallory", GIT_COMMITTER_EMAIL="mallory@example.org")
    tip = git(path, "rev-parse", "refs/heads/main").strip()
    new = subprocess.run(
        ["git", "-C", str(path), "commit-tree", f"{tip}^{{tree}}", "-p", f"{tip}^", "-F", "-"],
        input=message, capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()
    git(path, "update-ref", "refs/heads/main", new, tip)
    return new
