"""``wikicore serve``: the wiki as an HTTP service, a skin over the library as the CLI is.

The stack is **FastAPI over uvicorn**. FastAPI, not bare Starlette (which it is
built on, so nothing is lost): clients want an OpenAPI document, built here
from the Pydantic models, and wikicore's records (articles, diffs, blame,
merges) already are Pydantic v2 models; FastAPI turns the same classes into
the schema, with parameter validation that answers in our one error shape.
uvicorn gives real worker processes (``--workers N``), which the store's lock
and compare-and-swap already make safe to run side by side and beside CLI
saves.

Layout, one job a module: :mod:`.config` (bind rule, token, the environment
a worker reads), :mod:`.security` (the guard every request passes),
:mod:`.service` (the library calls and their caches), :mod:`.cache` (the tip
from the ref file, answers kept as bytes), :mod:`.fast` (cached reads answered
before FastAPI's routing), :mod:`.api` (JSON under ``/api/v1/``), :mod:`.site`
(the review site), :mod:`.schemas` (the API's records), :mod:`.app` (errors in
one place, the app, :func:`run_server`).

Nothing in the library imports this package; it needs the ``serve`` extra
(``pip install 'wikicore[serve]'``), imported only when a server starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .config import DEFAULT_HOST, DEFAULT_PORT, ServeConfig, is_loopback

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeConfig", "create_app", "is_loopback", "run_server"]


def create_app(config: ServeConfig) -> object:
    """The ASGI app for a checked configuration (see :func:`wikicore.serve.app.create_app`)."""
    from .app import create_app as make

    return make(config)


def run_server(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, read_only: bool = False, token_file: Path | None = None,
    workers: int = 1, wiki_path: Path = Path("."), *, allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve a wiki until interrupted: the body of ``wikicore serve`` (see :func:`wikicore.serve.app.run_server`).

    Raises :class:`~wikicore.errors.InvalidInput` before anything listens for a
    non-loopback ``host`` without ``token_file``, a bad token file or ``workers`` < 1,
    and :class:`~wikicore.errors.NotFound`/``InvalidInput`` when ``wiki_path`` is no wiki.
    """
    from .app import run_server as run

    run(host, port, read_only, token_file, workers, wiki_path, allowed_hosts=allowed_hosts)
