"""The cached read path of ``wikicore serve``: never a stale latest revision, and the same answer as the route.

A read answered from the cache (:mod:`wikicore.serve.cache`, :mod:`wikicore.serve.fast`) must be the
route's answer byte for byte, and a save that returned in another process (the CLI, another worker)
must be visible to the very next read: the cache accelerates, git decides.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wikicore.serve.cache import UNKNOWN, Body, BodyCache, TipWatch
from wikicore.store import BRANCH, Wiki

from .support.serve_helpers import ROOT, serving
from .support.wiki_helpers import article, git

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from wikicore.serve.app import create_app
from wikicore.serve.config import ServeConfig
from wikicore.serve.service import Service

#: A guard against a table that never gets built, not a measurement: it takes milliseconds here.
TABLE_GUARD = 60.0

_SAVE = """
import sys
from wikicore.store import Wiki
with Wiki.open(sys.argv[1]) as wiki:
    latest = wiki.latest(sys.argv[2])
    current = wiki.load(sys.argv[2], latest.id)
    print(wiki.save(current.model_copy(update={"title": sys.argv[3]}), "retitle", base=latest.id).id)
"""


def save_elsewhere(root: Path, slug: str, title: str) -> str:
    """Retitle ``slug`` from another process, as the CLI or another worker would; the new revision."""
    done = subprocess.run([sys.executable, "-c", _SAVE, str(root), slug, title], capture_output=True, text=True,
                          cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.stdout.strip()


@pytest.fixture
def wiki_root(tmp_path: Path) -> Path:
    root = tmp_path / "wiki"
    with Wiki.init(root) as wiki:
        for slug in ("tea", "coffee"):
            wiki.save(article(slug, title=slug.title()), f"Create {slug}")
    return root


@pytest.fixture
def service(wiki_root: Path) -> Iterator[Service]:
    running = Service(ServeConfig(wiki_root).check())
    yield running
    running.close()


def warm(service: Service, slug: str) -> Body:
    """Read ``slug`` until the cache answers it without git (the table of latest revisions is built)."""
    body = service.body(slug)
    started = time.monotonic()
    while service.cached_body(slug) is None:
        assert time.monotonic() - started < TABLE_GUARD, "the table of latest revisions was never built"
        time.sleep(0.01)
        service.body(slug)
    return body


def test_a_save_in_another_process_is_the_next_reads_latest(service: Service, wiki_root: Path) -> None:
    before = warm(service, "tea")
    assert service.cached_body("tea") == before
    for n in range(3):
        new = save_elsewhere(wiki_root, "tea", f"Tea {n}")
        assert new != before.revision
        cached = service.cached_body("tea")
        assert cached is None or cached.revision == new  # never the revision before the save
        after = service.body("tea")
        assert after.revision == new and f'"title": "Tea {n}"'.encode() in after.content
        assert service.article("tea").revision == new
        before = warm(service, "tea")
        assert before.revision == new
    # The other article's body (same commit as before) was kept across the saves: bodies go by (slug, commit).
    assert service.cached_body("coffee") is None or service.body("coffee").revision == service.revision("coffee")


def test_a_packed_ref_is_followed_and_a_save_after_packing_is_seen(service: Service, wiki_root: Path) -> None:
    first = warm(service, "tea")
    git(wiki_root, "pack-refs", "--all")  # the loose ref is gone: the tip is in packed-refs only
    assert not (wiki_root / ".git" / BRANCH).exists()
    assert service.body("tea") == first  # asks git once, then knows the packed tip
    assert service.cached_body("tea") == first
    new = save_elsewhere(wiki_root, "tea", "Packed then saved")
    cached = service.cached_body("tea")
    assert cached is None or cached.revision == new
    assert service.body("tea").revision == new
    git(wiki_root, "pack-refs", "--all")
    assert service.body("tea").revision == new
    assert warm(service, "tea").revision == new


def test_tip_watch_reads_the_ref_file_and_asks_git_only_for_a_packed_one(wiki_root: Path) -> None:
    with Wiki.open(wiki_root) as wiki:
        watch = TipWatch(wiki.common_dir, BRANCH)
        assert watch.peek() == wiki.tip()
        git(wiki_root, "pack-refs", "--all")
        assert watch.peek() is UNKNOWN
        asked: list[str | None] = []

        def ask() -> str | None:
            asked.append(wiki.tip())
            return asked[-1]

        assert watch.learn(ask) == wiki.tip() and len(asked) == 1
        assert watch.peek() == wiki.tip()  # remembered while packed-refs stands still
        git(wiki_root, "update-ref", "refs/heads/other", wiki.tip() or "")
        git(wiki_root, "pack-refs", "--all")  # packed-refs rewritten: ask again
        assert watch.peek() is UNKNOWN


def test_body_cache_is_bounded_by_bytes_and_drops_the_least_recently_used() -> None:
    cache = BodyCache(budget=100)
    cache.put("a", Body("1", b"x" * 40))
    cache.put("b", Body("2", b"y" * 40))
    assert cache.get("a") is not None  # now "b" is the least recently used
    cache.put("c", Body("3", b"z" * 40))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.size == 80 and len(cache) == 2
    cache.put("huge", Body("4", b"h" * 101))  # over the whole budget: not kept, nothing evicted for it
    assert cache.get("huge") is None and len(cache) == 2


def _asgi_get(app: object, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(go())


def test_the_cached_answer_is_the_routes_answer(wiki_root: Path) -> None:
    app = create_app(ServeConfig(wiki_root).check())
    service: Service = app.app.service  # Guard -> FastReads
    try:
        body = warm(service, "tea")
        fast = _asgi_get(app, "/api/v1/articles/tea")  # answered by FastReads from the cache
        routed = _asgi_get(app, f"/api/v1/articles/tea?rev={body.revision}")  # a query string: the FastAPI route
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content == body.content
        assert fast.headers.multi_items() == routed.headers.multi_items()
        assert fast.headers["etag"] == f'W/"{body.revision}"' and fast.headers["x-frame-options"] == "DENY"
        tag = {"If-None-Match": f'W/"{body.revision[:12]}"'}
        fast_304, routed_304 = (_asgi_get(app, "/api/v1/articles/tea", tag),
                                _asgi_get(app, f"/api/v1/articles/tea?rev={body.revision}", tag))
        assert fast_304.status_code == routed_304.status_code == 304 and fast_304.content == b""
        assert fast_304.headers.multi_items() == routed_304.headers.multi_items()
        bad = _asgi_get(app, "/api/v1/articles/tea", {"If-None-Match": "garbage"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid-input"
        assert _asgi_get(app, "/api/v1/articles/tea", {"Host": "evil.example"}).status_code == 400
    finally:
        service.close()


def test_a_running_server_shows_another_process_save_at_once(wiki_root: Path, tmp_path: Path) -> None:
    with serving(wiki_root, log_dir=tmp_path) as server, server.client() as http:
        for n in range(3):
            for _ in range(20):  # reads that fill the cache and (soon) come from it
                old = http.get("/api/v1/articles/tea")
                assert old.status_code == 200
            new = save_elsewhere(wiki_root, "tea", f"Served {n}")
            fresh = http.get("/api/v1/articles/tea")
            assert fresh.status_code == 200 and fresh.json()["revision"] == new
            assert fresh.json()["title"] == f"Served {n}" and fresh.headers["etag"] == f'W/"{new}"'
            stale_tag = http.get("/api/v1/articles/tea", headers={"If-None-Match": old.headers["etag"]})
            assert stale_tag.status_code == 200 and stale_tag.json()["revision"] == new
