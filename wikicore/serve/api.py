"""The JSON API under ``/api/v1/``: one route per library call, errors in one shape.

Preconditions follow HTTP (RFC 9110) and MediaWiki's REST API: an article's
``ETag`` is ``W/"<revision>"``; ``If-None-Match`` with it answers 304;
a ``PUT`` names its base in ``If-Match`` (or the body's ``revision`` field);
``If-None-Match: *`` creates and answers 412 if the article exists; an edit of
an existing article with no base answers 428. A stale base answers 412 with the
latest revision, unless the request asks for the claim-level merge
(``?merge=true``): then the answer is 200 with the merged revision and what
was merged, or 409 with base, theirs and yours of every conflicting item.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from ..blame import Blame
from ..diff import ArticleDiff
from ..errors import InvalidInput
from ..models import Article
from ..report.diff import render_blame_json, render_diff_json
from .schemas import (
    ArticleList,
    ArticleSummary,
    Changes,
    ErrorResponse,
    Health,
    HistoryPage,
    RevisionInfo,
    SaveResult,
    SaveStatus,
)
from .service import DEFAULT_CHANGES, Service

__all__ = ["JSON", "PREFIX", "REVALIDATE", "etag", "none_match", "router"]

PREFIX = "/api/v1"
JSON = "application/json"
#: An article may change at any moment: a client revalidates with its ETag every time.
REVALIDATE = "no-cache"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": words}
    for status, words in (
        (400, "Bad Host header"), (401, "A write without the bearer token"), (403, "A write from another site"),
        (404, "No such article, revision or route"), (405, "A write to a read-only server"),
        (413, "Body over the cap"), (422, "Invalid input; `field` names it"),
    )
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"model": ErrorResponse, "description": "Both edits changed the same items: `conflicts` names them"},
    412: {"model": ErrorResponse, "description": "Stale base (If-Match), or If-None-Match: * on an existing article"},
    415: {"model": ErrorResponse, "description": "The body is not application/json"},
    428: {"model": ErrorResponse, "description": "An edit of an existing article without a base"},
}

router = APIRouter(prefix=PREFIX)

_TAG = re.compile(r'\s*(?:W/)?"([0-9a-fA-F]{4,64})"\s*')


def etag(revision: str) -> str:
    """The weak entity tag of a revision (weak: the same article may serialise differently over versions)."""
    return f'W/"{revision}"'


def _tags(header: str | None, name: str) -> list[str] | None:
    """The revisions an ``If-Match``/``If-None-Match`` header lists; ``["*"]`` for ``*``; None when absent."""
    if header is None:
        return None
    if header.strip() == "*":
        return ["*"]
    tags = []
    for part in header.split(","):
        match = _TAG.fullmatch(part)
        if match is None:
            raise InvalidInput(f'{name} must list entity tags such as W/"<revision>", not {header[:80]!r}')
        tags.append(match.group(1).lower())
    return tags


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@router.get("/articles", response_model=ArticleList, responses=_ERRORS, summary="List articles by slug")
def list_articles(
    request: Request,
    prefix: Annotated[str, Query(max_length=120)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=120)] = None,
) -> ArticleList:
    """A page of articles (slug, title, latest revision and its date), by slug."""
    rows, next_cursor = _service(request).listing(prefix, limit, cursor)
    return ArticleList(
        articles=[ArticleSummary(slug=s, title=t, revision=r.id if r else None, date=r.date if r else None)
                  for s, t, r in rows],
        next_cursor=next_cursor,
    )


@router.get("/articles/{slug}", responses={200: {"model": Article, "description": "The article, with `revision`"},
                                           304: {"description": "Not modified (If-None-Match)"}, **_ERRORS},
            summary="Read an article")
async def get_article(
    request: Request, slug: str,
    rev: Annotated[str | None, Query(max_length=80, description="Any revision: an id, HEAD~N, latest~N")] = None,
) -> Response:
    """The article as JSON (the same as `wikicore show --format json`), with ``ETag: W/"<revision>"``.

    Most reads of the latest revision never get here: :class:`~wikicore.serve.fast.FastReads` answers
    a cached one before routing, with these same bytes and headers. Async because a known answer is a
    few dict look-ups (:meth:`Service.cached_body`) and the hop to a worker thread cost more than the
    whole answer; anything that needs git runs in a worker thread.
    """
    service = _service(request)
    header = request.headers.get("if-none-match")
    body = service.cached_body(slug, rev)
    if body is None:
        if header is not None and rev is None:
            # A revalidation of the latest revision needs its id, not the article: no load, no encoding.
            revision = await run_in_threadpool(service.revision, slug)
            if none_match(header, revision):
                return Response(status_code=304, headers=_article_headers(revision))
        body = await run_in_threadpool(service.body, slug, rev)
    if header is not None and none_match(header, body.revision):
        return Response(status_code=304, headers=_article_headers(body.revision))
    return Response(body.content, media_type=JSON, headers=_article_headers(body.revision))


def _article_headers(revision: str) -> dict[str, str]:
    return {"ETag": etag(revision), "Cache-Control": REVALIDATE}


def none_match(header: str, revision: str) -> bool:
    """Whether ``If-None-Match`` names ``revision`` (or ``*``); a malformed header is a 422, as before."""
    wanted = _tags(header, "If-None-Match")
    return wanted is not None and ("*" in wanted or any(revision.startswith(w) for w in wanted))


@router.put(
    "/articles/{slug}", response_model=SaveResult, status_code=200,
    responses={201: {"model": SaveResult, "description": "Created"}, **_WRITE_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": {
        "$ref": "#/components/schemas/Article"}}}}},
    summary="Create or edit an article",
)
async def put_article(
    request: Request, slug: str,
    merge: Annotated[bool, Query(description="On a stale base, merge claim by claim instead of answering 412")] = False,
    message: Annotated[str | None, Query(max_length=4000, description="The commit message")] = None,
    author: Annotated[str | None, Query(max_length=400, description="'Name <mail>'")] = None,
) -> Response:
    """Save the article in the body; see the module docstring for If-Match, If-None-Match and the merge."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != JSON:
        from .app import ApiError

        raise ApiError(415, "unsupported-media-type", f"send the article as {JSON}, not {kind or 'no type'}",
                       "Content-Type")
    match_tags = _tags(request.headers.get("if-match"), "If-Match")
    none_match = _tags(request.headers.get("if-none-match"), "If-None-Match")
    body = await request.body()
    service = _service(request)
    base = None
    if match_tags is not None:
        base = None if match_tags == ["*"] else match_tags[0]
        if base is None:
            latest = await run_in_threadpool(service.article, slug)
            base = latest.revision
    answer = await run_in_threadpool(
        service.save, slug, body, base=base, create=none_match == ["*"], merge=merge, message=message, author=author,
    )
    if answer.created:
        status = SaveStatus.CREATED
    elif answer.unchanged:
        status = SaveStatus.UNCHANGED
    elif answer.outcome is not None and answer.outcome.merge is not None:
        status = SaveStatus.MERGED
    else:
        status = SaveStatus.SAVED
    merged = answer.outcome.merge if answer.outcome is not None else None
    result = SaveResult(
        slug=slug, revision=answer.revision.id, status=status,
        merged_with=answer.outcome.merged_with if answer.outcome is not None else None,
        merged=merged.merged if merged is not None else [],
    )
    return Response(result.model_dump_json(indent=2) + "\n", status_code=201 if answer.created else 200,
                    media_type=JSON, headers={"ETag": etag(answer.revision.id), "Cache-Control": "no-store"})


@router.get("/articles/{slug}/history", response_model=HistoryPage, responses=_ERRORS, summary="An article's history")
def history(
    request: Request, slug: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    older_than: Annotated[str | None, Query(max_length=80)] = None,
) -> HistoryPage:
    """Revisions newest first, following renames; page on with ``older_than=<next_older_than>``."""
    revisions, older = _service(request).history(slug, limit, older_than)
    return HistoryPage(slug=slug, revisions=[RevisionInfo(
        id=r.id, short=r.short, author=r.author, email=r.email, date=r.date, message=r.message, path=r.path,
    ) for r in revisions], next_older_than=older)


@router.get("/articles/{slug}/compare/{a}/{b}", responses={200: {"model": ArticleDiff}, **_ERRORS},
            summary="The semantic diff between two revisions")
def compare(request: Request, slug: str, a: str, b: str) -> Response:
    """The same JSON as ``wikicore diff --format json SLUG A B``."""
    diff = _service(request).wiki().diff(slug, a, b)
    return Response(render_diff_json(diff), media_type=JSON, headers={"Cache-Control": REVALIDATE})


@router.get("/articles/{slug}/blame", responses={200: {"model": Blame}, **_ERRORS}, summary="Claim blame")
def blame(request: Request, slug: str, rev: Annotated[str | None, Query(max_length=80)] = None) -> Response:
    """The same JSON as ``wikicore blame --format json``."""
    result = _service(request).wiki().blame(slug, rev)
    return Response(render_blame_json(result), media_type=JSON, headers={"Cache-Control": REVALIDATE})


@router.get("/articles/{slug}/health", response_model=Health, responses=_ERRORS, summary="Citation link health")
def health(request: Request, slug: str) -> Health:
    """Each reference's last observation in the wiki's link database; no network."""
    revision, references = _service(request).health(slug)
    return Health(slug=slug, revision=revision, references=references)


def _since(value: str | None) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"since must be an ISO 8601 date or time, not {value[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


@router.get("/changes", response_model=Changes, responses=_ERRORS, summary="Recent changes across the wiki")
def changes(
    request: Request,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601; only changes after it")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_CHANGES,
) -> Changes:
    """The newest changes, each with its diff's alerts and the citation problems it introduced."""
    return Changes(changes=_service(request).changes(limit, _since(since)))


@router.get("/changes.atom", responses={200: {"content": {"application/atom+xml": {}}}, **_ERRORS},
            response_class=Response, summary="Recent changes as an Atom feed")
def changes_atom(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_CHANGES,
) -> Response:
    """Recent changes as Atom (RFC 4287), each entry linking to its diff on the review site."""
    items = _service(request).changes(limit, None)
    root = str(request.base_url).rstrip("/")
    updated = items[0].date.isoformat() if items else _dt.datetime.now(_dt.UTC).isoformat()
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           "<title>wikicore: recent changes</title>", f"<id>{xml_escape(root)}/</id>",
           f"<updated>{updated}</updated>", f"<link href={quoteattr(root + '/')}/>"]
    for change in items:
        target = (f"{root}/a/{change.slug}/compare/{change.parent}/{change.revision}" if change.parent
                  else f"{root}/a/{change.slug}/rev/{change.revision}")
        subject = change.message.splitlines()[0] if change.message.strip() else "(no message)"
        alerts = "; ".join(a.message for a in change.alerts)
        out += [
            "<entry>", f"<title>{xml_escape(change.slug)}: {xml_escape(subject)}</title>",
            f"<id>urn:wikicore:{xml_escape(change.slug)}:{change.revision}</id>",
            f"<updated>{change.date.isoformat()}</updated>", f"<link href={quoteattr(target)}/>",
            f"<author><name>{xml_escape(change.author)}</name></author>",
            f"<summary>{xml_escape(alerts or 'no alerts')}; {change.problems_introduced} citation problem(s) "
            "introduced</summary>", "</entry>",
        ]
    out.append("</feed>")
    return Response("\n".join(out) + "\n", media_type="application/atom+xml",
                    headers={"Cache-Control": REVALIDATE})
