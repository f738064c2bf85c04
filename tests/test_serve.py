"""``wikicore serve`` against real parts: a uvicorn process on 127.0.0.1 and a real HTTP client.

Every route of the API and the review site, every error status the API documents,
the security rules, and the OpenAPI document (validated by openapi-spec-validator).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.links.history import LinkDB, Observation
from wikicore.report.base import CSP
from wikicore.store import Wiki

from .support.serve_helpers import ROOT, Server, serving
from .support.wiki_helpers import article

pytest.importorskip("fastapi", reason="the serve extra is not installed")

JSON = {"Content-Type": "application/json"}
URL = "https://example.org/source"


@pytest.fixture(scope="module")
def wiki_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve") / "wiki"
    with Wiki.init(root) as wiki:
        first = article("tea", title="Tea", claims=[
            {"id": "c1", "text": "Tea is a drink. ", "citations": [{"ref": "r1"}]},
            {"id": "c2", "text": "It is brewed. "},
        ], refs=[{"id": "r1", "title": "A history of tea", "url": URL}])
        wiki.save(first, "Create tea")
        second = first.model_copy(update={"title": "Tea (drink)"})
        wiki.save(second, "Retitle", base=wiki.latest("tea").id)  # type: ignore[union-attr]
        for slug in ("apple", "apricot", "banana"):
            wiki.save(article(slug), f"Create {slug}")
        checks = wiki.checks_path
    with LinkDB(checks) as db:
        db.record(Observation(URL, _dt.datetime(2026, 1, 2, tzinfo=_dt.UTC), "live", http_status=200))
    return root


@pytest.fixture(scope="module")
def server(wiki_path: Path) -> Iterator[Server]:
    with serving(wiki_path, "--max-body", "200000") as running:
        yield running


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _error(response: httpx.Response, status: int, code: str, field: str | None = ...) -> dict[str, Any]:  # type: ignore[assignment]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "field"} <= set(body["error"])
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field is not ...:
        assert body["error"]["field"] == field, body
    return body["error"]  # type: ignore[no-any-return]


def _put(http: httpx.Client, slug: str, data: dict[str, Any], **headers: str) -> httpx.Response:
    params = {k: headers.pop(k) for k in ("merge", "message") if k in headers}
    return http.put(f"/api/v1/articles/{slug}", content=json.dumps(data), params=params,
                    headers={**JSON, **{k.replace("_", "-"): v for k, v in headers.items()}})


def _get(http: httpx.Client, slug: str) -> tuple[str, dict[str, Any]]:
    response = http.get(f"/api/v1/articles/{slug}")
    assert response.status_code == 200, response.text
    data = response.json()
    assert response.headers["etag"] == f'W/"{data["revision"]}"'
    return data["revision"], data


# --- reading ----------------------------------------------------------------------------------


def test_list_pages_by_slug_with_prefix(http: httpx.Client) -> None:
    everything = http.get("/api/v1/articles").json()
    assert [a["slug"] for a in everything["articles"]] == ["apple", "apricot", "banana", "tea"]
    assert everything["articles"][3]["title"] == "Tea (drink)" and everything["next_cursor"] is None
    first = http.get("/api/v1/articles", params={"prefix": "ap", "limit": 1}).json()
    assert [a["slug"] for a in first["articles"]] == ["apple"] and first["next_cursor"] == "apple"
    rest = http.get("/api/v1/articles", params={"prefix": "ap", "cursor": "apple"}).json()
    assert [a["slug"] for a in rest["articles"]] == ["apricot"] and rest["next_cursor"] is None
    _error(http.get("/api/v1/articles", params={"limit": 0}), 422, "invalid-input", "limit")


def test_an_article_has_an_etag_and_answers_304(http: httpx.Client) -> None:
    revision, data = _get(http, "tea")
    assert data["title"] == "Tea (drink)" and data["slug"] == "tea"
    response = http.get("/api/v1/articles/tea")
    assert response.headers["cache-control"] == "no-cache"
    again = http.get("/api/v1/articles/tea", headers={"If-None-Match": f'W/"{revision}"'})
    assert again.status_code == 304 and again.content == b""
    older = http.get("/api/v1/articles/tea", params={"rev": "~1"})
    assert older.status_code == 200 and older.json()["title"] == "Tea" and older.json()["revision"] != revision


def test_reading_errors(http: httpx.Client) -> None:
    _error(http.get("/api/v1/articles/nope"), 404, "not-found")
    _error(http.get("/api/v1/articles/Upper"), 422, "invalid-slug", "slug")
    _error(http.get("/api/v1/articles/tea", params={"rev": "--output=x"}), 422, "invalid-revision", "rev")
    _error(http.get("/api/v1/articles/tea", params={"rev": "~9"}), 404, "not-found")
    _error(http.get("/api/v1/nothing-here"), 404, "not-found")
    _error(http.delete("/api/v1/articles/tea"), 405, "method-not-allowed")
    _error(http.get("/api/v1/articles/tea", headers={"If-None-Match": "garbage"}), 422, "invalid-input")


def test_history_compare_and_blame_are_the_clis(http: httpx.Client, wiki_path: Path) -> None:
    page = http.get("/api/v1/articles/tea/history", params={"limit": 1}).json()
    assert [r["message"] for r in page["revisions"]] == ["Retitle"]
    newest = page["revisions"][0]["id"]
    rest = http.get("/api/v1/articles/tea/history", params={"older_than": page["next_older_than"]}).json()
    assert [r["message"] for r in rest["revisions"]] == ["Create tea"] and rest["next_older_than"] is None
    oldest = rest["revisions"][0]["id"]
    _error(http.get("/api/v1/articles/nope/history"), 404, "not-found")

    runner = CliRunner()
    compare = http.get(f"/api/v1/articles/tea/compare/{oldest}/{newest}")
    cli = runner.invoke(main, ["--wiki", str(wiki_path), "diff", "tea", oldest, newest, "--format", "json"])
    assert cli.exit_code == 0 and compare.status_code == 200
    assert compare.json() == json.loads(cli.output)
    _error(http.get(f"/api/v1/articles/tea/compare/{oldest}/zzzz"), 422, "invalid-revision")

    blame = http.get("/api/v1/articles/tea/blame")
    cli = runner.invoke(main, ["--wiki", str(wiki_path), "blame", "tea", "--format", "json"])
    assert blame.status_code == 200 and blame.json() == json.loads(cli.output)
    assert http.get("/api/v1/articles/tea/blame", params={"rev": oldest}).status_code == 200


def test_health_comes_from_the_link_database(http: httpx.Client) -> None:
    health = http.get("/api/v1/articles/tea/health").json()
    [ref] = health["references"]
    assert (ref["ref"], ref["url"], ref["status"], ref["http_status"]) == ("r1", URL, "live", 200)
    plain = http.get("/api/v1/articles/apple/health").json()
    assert plain["references"] == []


def test_changes_carry_alerts_and_problems_and_an_atom_feed(http: httpx.Client) -> None:
    changes = http.get("/api/v1/changes", params={"limit": 10}).json()["changes"]
    assert len(changes) == 5
    created = next(c for c in changes if c["message"] == "Create tea")
    assert created["parent"] is None
    assert any(a["kind"] == "unsourced-claim-added" for a in created["alerts"])
    assert created["problems_introduced"] >= 1  # claim-uncited on c2
    one = http.get("/api/v1/changes", params={"limit": 1}).json()["changes"]
    assert one == changes[:1]
    later = http.get("/api/v1/changes", params={"since": "2999-01-01"}).json()["changes"]
    assert later == []
    _error(http.get("/api/v1/changes", params={"since": "yesterday"}), 422, "invalid-input")
    feed = http.get("/api/v1/changes.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 5


def test_changes_are_the_articles_histories_merged_newest_first(http: httpx.Client, wiki_path: Path) -> None:
    """The same items per-article histories give (each revision with its previous one), for every limit."""
    with Wiki.open(wiki_path) as wiki:
        expected = []
        for slug in wiki.list():
            history = wiki.history(slug)
            for position, rev in enumerate(history):
                parent = history[position + 1].id if position + 1 < len(history) else None
                expected.append({"slug": slug, "revision": rev.id, "parent": parent, "message": rev.message})
        commits = subprocess.run(["git", "-C", str(wiki_path), "rev-list", "main"], capture_output=True,
                                 text=True, check=True).stdout.split()
    expected.sort(key=lambda item: (commits.index(item["revision"]), item["slug"]))
    for limit in range(1, len(expected) + 2):
        changes = http.get("/api/v1/changes", params={"limit": limit}).json()["changes"]
        got = [{k: c[k] for k in ("slug", "revision", "parent", "message")} for c in changes]
        assert got == expected[:limit], limit


def test_the_openapi_document_is_valid_and_lists_every_route(http: httpx.Client) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = http.get("/api/v1/openapi.json").json()
    validator.validate(document)
    assert set(document["paths"]) == {
        "/api/v1/articles", "/api/v1/articles/{slug}", "/api/v1/articles/{slug}/history",
        "/api/v1/articles/{slug}/compare/{a}/{b}", "/api/v1/articles/{slug}/blame",
        "/api/v1/articles/{slug}/health", "/api/v1/changes", "/api/v1/changes.atom",
    }
    put = document["paths"]["/api/v1/articles/{slug}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Article"}
    assert {"409", "412", "428", "422"} <= set(put["responses"])
    assert "ErrorResponse" in document["components"]["schemas"]
    # The README's "Serving a wiki" documents every route.
    docs = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path.removeprefix('/api/v1')}" in docs, (method, path)


# --- writing ----------------------------------------------------------------------------------


def test_create_edit_stale_merge_and_conflict(http: httpx.Client) -> None:
    fresh = article("coffee", claims=[{"id": "k1", "text": "Coffee is a drink. "},
                                      {"id": "k2", "text": "It is roasted. "}]).model_dump(mode="json")
    created = _put(http, "coffee", fresh, If_None_Match="*")
    assert created.status_code == 201 and created.json()["status"] == "created"
    base = created.json()["revision"]
    assert created.headers["etag"] == f'W/"{base}"'
    _error(_put(http, "coffee", fresh, If_None_Match="*"), 412, "edit-conflict")
    _error(_put(http, "coffee", fresh), 428, "base-required", "If-Match")

    theirs = copy.deepcopy(fresh)
    theirs["lead"][0]["claims"][0]["text"] = "Coffee is a brewed drink. "
    saved = _put(http, "coffee", theirs, If_Match=f'W/"{base}"', message="Theirs")
    assert saved.status_code == 200 and saved.json()["status"] == "saved"
    unchanged = _put(http, "coffee", theirs, If_Match=f'W/"{saved.json()["revision"]}"')
    assert unchanged.json()["status"] == "unchanged" and unchanged.json()["revision"] == saved.json()["revision"]

    # A retried PUT (same body, old base) is no conflict with itself.
    retried = _put(http, "coffee", theirs, If_Match=f'W/"{base}"')
    assert retried.status_code == 200 and retried.json()["status"] == "unchanged"

    yours = copy.deepcopy(fresh)
    yours["lead"][0]["claims"][1]["text"] = "It is roasted and ground. "
    stale = _error(_put(http, "coffee", yours, If_Match=f'W/"{base}"'), 412, "edit-conflict", "If-Match")
    assert stale["current"] == saved.json()["revision"]
    merged = _put(http, "coffee", yours, If_Match=f'W/"{base}"', merge="true", message="Yours")
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged" and merged.json()["merged_with"] == saved.json()["revision"]
    assert {(m["id"], m["side"]) for m in merged.json()["merged"]} == {("k1", "theirs"), ("k2", "yours")}
    _, now = _get(http, "coffee")
    assert [c["text"] for c in now["lead"][0]["claims"]] == ["Coffee is a brewed drink. ", "It is roasted and ground. "]

    clash = copy.deepcopy(fresh)
    clash["lead"][0]["claims"][0]["text"] = "Coffee is a bean. "
    clash["revision"] = base  # the body's revision is the base when If-Match is absent
    conflict = _error(_put(http, "coffee", clash, merge="true"), 409, "merge-conflict")
    [item] = conflict["conflicts"]
    assert (item["kind"], item["id"]) == ("claim", "k1")
    assert (item["base"]["text"], item["theirs"]["text"], item["yours"]["text"]) == (
        "Coffee is a drink. ", "Coffee is a brewed drink. ", "Coffee is a bean. ")
    assert conflict["current"] == merged.json()["revision"]


def test_invalid_bodies_name_the_field(http: httpx.Client) -> None:
    good = article("juice").model_dump(mode="json")
    bad = {**good, "references": [{"id": "r1", "date": "2026-13-01"}]}
    _error(_put(http, "juice", bad), 422, "invalid-article", "references[0].date")
    _error(_put(http, "other", good), 422, "invalid-article", "slug")
    _error(http.put("/api/v1/articles/juice", content=b"{not json", headers=JSON), 422, "invalid-article")
    _error(http.put("/api/v1/articles/juice", content=json.dumps(good), headers={"Content-Type": "text/plain"}),
           415, "unsupported-media-type", "Content-Type")
    _error(_put(http, "juice", good, If_Match="yesterday"), 422, "invalid-input")
    _error(_put(http, "Juice", good), 422, "invalid-slug", "slug")


def test_the_body_is_capped(http: httpx.Client) -> None:
    huge = json.dumps({"slug": "big", "title": "x" * 300_000})
    _error(http.put("/api/v1/articles/big", content=huge, headers=JSON), 413, "too-large")

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 10_000

    _error(http.put("/api/v1/articles/big", content=chunks(), headers=JSON), 413, "too-large")


# --- security -----------------------------------------------------------------------------------


def test_a_foreign_host_is_refused(http: httpx.Client, server: Server) -> None:
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example"):
        _error(http.get("/api/v1/articles", headers={"Host": host}), 400, "bad-host", "Host")
        _error(http.get("/", headers={"Host": host}), 400, "bad-host", "Host")
    assert http.get("/api/v1/articles", headers={"Host": f"localhost:{server.port}"}).status_code == 200


def test_a_write_from_another_site_is_refused(http: httpx.Client, server: Server) -> None:
    body = article("pear").model_dump(mode="json")
    _error(_put(http, "pear", body, Origin="https://evil.example"), 403, "foreign-origin", "Origin")
    _error(_put(http, "pear", body, Origin="null"), 403, "foreign-origin", "Origin")
    ok = _put(http, "pear", body, Origin=server.url)
    assert ok.status_code == 201, ok.text


def test_headers_no_cors_and_the_review_site_csp(http: httpx.Client) -> None:
    api = http.get("/api/v1/articles", headers={"Origin": "https://evil.example"})
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in api.headers["content-security-policy"]
    assert api.headers["cache-control"] == "no-store"
    assert not any(name.startswith("access-control-") for name in api.headers)
    preflight = http.options("/api/v1/articles/tea", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    site = http.get("/a/tea")
    assert site.headers["content-security-policy"].startswith(CSP)
    assert site.headers["x-frame-options"] == "DENY" and site.headers["cache-control"] == "no-cache"
    assert http.get("/robots.txt").text.startswith("User-agent: *")


def test_the_review_site_pages(http: httpx.Client) -> None:
    revisions = http.get("/api/v1/articles/tea/history").json()["revisions"]
    new, old = revisions[0]["id"], revisions[1]["id"]
    pages = ["/", "/a/tea", "/a/tea/history", f"/a/tea/rev/{old}", f"/a/tea/compare/{old}/{new}", "/a/tea/blame",
             "/a/tea/findings"]
    for path in pages:
        response = http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert 'id="summary"' in response.text and "<script" not in response.text
    article_page = http.get("/a/tea").text
    assert 'class="s-live"' in article_page and "Tea (drink)" in article_page
    home = http.get("/").text
    assert f"/a/tea/compare/{old}/{new}" in home
    assert home.count('<span class="s-live nw">1 live</span>') == 2  # tea's link health on both its changes
    _error(http.get("/a/nope"), 404, "not-found")


def test_wiki_text_is_escaped_on_the_site(http: httpx.Client) -> None:
    body = article("xss", title="<script>alert(1)</script>", claims=['<img src=x onerror="alert(1)"> ']).model_dump(
        mode="json")
    assert _put(http, "xss", body).status_code == 201
    for path in ("/a/xss", "/", "/a/xss/blame", "/a/xss/history"):
        text = http.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;" in text or "&lt;img" in text or path in ("/", "/a/xss/history")


def _serve_fails(wiki: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "wikicore.serve", str(wiki), *args], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=120)
    assert done.returncode == 2, done.stderr
    return done.stderr


def test_a_non_loopback_bind_needs_a_token(wiki_path: Path, tmp_path: Path) -> None:
    # Refused before anything listens: nothing leaves loopback.
    assert "not loopback" in _serve_fails(wiki_path, "--host", "0.0.0.0", "--port", "1")
    short = tmp_path / "short"
    short.write_text("abc\n")
    assert "at least 16" in _serve_fails(wiki_path, "--token-file", str(short), "--port", "1")
    assert "no wiki at" in _serve_fails(tmp_path, "--port", "1")


def test_a_token_guards_every_write_and_read_only_refuses_them(wiki_path: Path, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token-0123456789abcdef\n")
    body = article("plum").model_dump(mode="json")
    with serving(wiki_path, "--token-file", str(token), log_dir=tmp_path) as guarded, guarded.client() as http:
        assert http.get("/api/v1/articles/tea").status_code == 200  # reads need no token
        missing = _error(_put(http, "plum", body), 401, "unauthorized", "Authorization")
        assert missing
        _error(_put(http, "plum", body, Authorization="Bearer wrong-token-0123456789abcdef"), 401, "unauthorized")
        _error(_put(http, "plum", body, Authorization="s3cret-token-0123456789abcdef"), 401, "unauthorized")
        ok = _put(http, "plum", body, Authorization="Bearer s3cret-token-0123456789abcdef")
        assert ok.status_code == 201, ok.text
    with serving(wiki_path, "--read-only", log_dir=tmp_path) as frozen, frozen.client() as http:
        refused = _put(http, "damson", article("damson").model_dump(mode="json"))
        _error(refused, 405, "read-only")
        assert refused.headers["allow"] == "GET, HEAD"
        assert http.get("/api/v1/articles/tea").status_code == 200


def test_head_is_get_without_the_body(http: httpx.Client) -> None:
    head = http.head("/api/v1/articles/tea")
    get = http.get("/api/v1/articles/tea")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert http.head("/a/tea").status_code == 200
