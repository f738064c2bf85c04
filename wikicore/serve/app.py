"""The ASGI app: the API router, the review site, the guard, and the one error shape.

Errors are mapped in one place, as the CLI maps them to exit statuses: the
library's exception tree becomes an HTTP status, a stable ``code`` and the
CLI's own plain words (``{"error": {"code", "message", "field"}}``); so do
FastAPI's validation errors and unknown routes. An unexpected exception answers
500 with no detail (the traceback goes to the server's log only).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import (
    EditConflict,
    InvalidArticle,
    InvalidInput,
    InvalidRevision,
    InvalidSlug,
    NotFound,
    StaleLock,
    WikicoreError,
)
from ..merge import MergeConflict
from ..models import build_validators
from .api import PREFIX, etag
from .api import router as api_router
from .config import DEFAULT_HOST, DEFAULT_PORT, MAX_BODY, ServeConfig
from .fast import ROBOTS, ROBOTS_HEADERS, FastReads
from .security import BodyTooLarge, Guard
from .service import BaseRequired, Service
from .site import router as site_router

__all__ = ["ApiError", "create_app", "from_env", "run_server"]

log = logging.getLogger("wikicore.serve")

#: Threads per process that may run library calls at once: each opens its own Wiki (two git pipes), and
#: on a small machine more threads than cores only queue in git. Requests beyond this wait their turn.
THREADS = 8


class ApiError(Exception):
    """An error a route raises itself (not from the library): status, code, message, field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _error(status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field,
                      **{k: v for k, v in extra.items() if v is not None}}}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _field_of(error: InvalidArticle) -> str | None:
    return next((p.path for p in error.problems if p.path), None)


def _library_error(request: Request, error: Exception) -> JSONResponse:
    """A library error as an answer: the status, a code, and ``str(error)``, the CLI's words."""
    message = str(error)
    if isinstance(error, MergeConflict):
        return _error(409, "merge-conflict", message, None, current=error.current,
                      conflicts=[c.model_dump(mode="json") for c in error.failure.conflicts])
    if isinstance(error, BaseRequired):
        return _error(428, "base-required", message, "If-Match", current=error.current)
    if isinstance(error, EditConflict):
        headers = {"ETag": etag(error.current)} if error.current else None
        return _error(412, "edit-conflict", message, "If-Match" if error.base else "If-None-Match", headers,
                      current=error.current)
    if isinstance(error, InvalidArticle):
        return _error(422, "invalid-article", message, _field_of(error))
    if isinstance(error, InvalidSlug):
        return _error(422, "invalid-slug", message, "slug")
    if isinstance(error, InvalidRevision):
        return _error(422, "invalid-revision", message, "rev")
    if isinstance(error, InvalidInput):
        return _error(422, "invalid-input", message)
    if isinstance(error, NotFound):
        return _error(404, "not-found", message)
    if isinstance(error, StaleLock):
        return _error(503, "store-locked", message, headers={"Retry-After": "5"})
    return _error(500, "store-error", message)


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "header")]
    return _error(422, "invalid-input", f"{'.'.join(where) or 'request'}: {first.get('msg', 'invalid')}",
                  ".".join(where) or None)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    codes = {404: "not-found", 405: "method-not-allowed"}
    message = {404: f"no such page: {request.url.path}", 405: f"{request.method} is not allowed here"}
    headers = dict(error.headers or {})
    return _error(error.status_code, codes.get(error.status_code, "http-error"),
                  message.get(error.status_code, str(error.detail)), None, headers)


def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _error(error.status, error.code, error.message, error.field)


def _too_large(request: Request, error: Exception) -> JSONResponse:
    cap = request.app.state.service.config.max_body
    return _error(413, "too-large", f"the request body is over {cap:,} bytes")


def _internal(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=error)
    return _error(500, "internal", "internal error: see the server's log")


def create_app(config: ServeConfig) -> Any:
    """The ASGI application for a checked configuration (``config.check()``), wrapped in the guard."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        build_validators()  # ~30 ms here rather than in the first request that parses an article
        service.refresh_latest()  # one history walk in the background, so the first readers find the table
        service.warm()  # recent changes too: the review site's front page and /changes
        yield
        service.close()

    service = Service(config)
    app = FastAPI(
        title="wikicore", version=__version__, lifespan=lifespan,
        description="Wiki articles as versioned, citation-checked data: the HTTP API of `wikicore serve`.",
        openapi_url=f"{PREFIX}/openapi.json", docs_url=None, redoc_url=None,
    )
    app.state.service = service
    app.add_exception_handler(WikicoreError, _library_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(Exception, _internal)
    app.include_router(api_router)
    app.include_router(site_router)

    @app.get("/robots.txt", include_in_schema=False)
    async def robots() -> Response:
        # GET (and HEAD, which the guard routes as GET) is answered by FastReads: the benchmark's ceiling, a
        # static answer through the guard and uvicorn only. The route stays so another method gets the 405.
        return Response(ROBOTS, media_type="text/plain", headers=ROBOTS_HEADERS)

    return Guard(FastReads(app, service), config)


def from_env() -> Any:
    """The app of a uvicorn worker process: the configuration ``run_server`` left in the environment."""
    return create_app(ServeConfig.from_env())


def run_server(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, read_only: bool = False, token_file: Path | None = None,
    workers: int = 1, wiki_path: Path = Path("."), *, allowed_hosts: Sequence[str] = (),
    max_body: int = MAX_BODY, log_level: str = "warning",
) -> None:
    """Serve the wiki at ``wiki_path`` until interrupted: the body of ``wikicore serve``.

    Refuses (:class:`~wikicore.errors.InvalidInput`) a non-loopback ``host``
    without ``token_file``, an unreadable token and a path that is not a wiki,
    before anything listens. ``workers`` > 1 starts that many uvicorn
    processes; the store's lock and compare-and-swap keep their saves safe.
    """
    import uvicorn

    from ..store import Wiki

    config = ServeConfig(Path(wiki_path).resolve(), host, port, read_only, token_file, tuple(allowed_hosts),
                         max_body).check()
    Wiki.open(config.wiki_path).close()  # not a wiki: say so now, not on the first request
    if workers < 1:
        raise InvalidInput(f"--workers must be at least 1, not {workers}")
    os.environ.update(config.to_env())
    uvicorn.run(
        "wikicore.serve.app:from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level,
        server_header=False, proxy_headers=False, access_log=False,
    )
