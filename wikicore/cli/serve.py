"""``wikicore serve``: the wiki over HTTP (the JSON API and the review site), a skin like this CLI."""

from __future__ import annotations

from pathlib import Path

import click

from . import Env, fail, main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --token-file.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--read-only", is_flag=True, help="Refuse every write with 405.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the bearer token every write must present (Authorization: Bearer ...).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Server processes; saves stay safe across them.")
@click.option("--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Another name the server answers to in the Host header (repeatable).")
@click.pass_obj
def serve(env: Env, host: str, port: int, read_only: bool, token_file: Path | None, workers: int,
          allowed_hosts: tuple[str, ...]) -> None:
    """Serve the wiki: the JSON API under /api/v1/ and the review site at /.

    Needs the `serve` extra (pip install 'wikicore[serve]'). Binds loopback by
    default; requests naming another host are refused (DNS rebinding), and so
    are writes from a foreign Origin.

    \b
    Example:
        wikicore --wiki mywiki serve --port 8080
        curl http://127.0.0.1:8080/api/v1/articles
    """
    try:
        from ..serve import run_server

        run_server(host, port, read_only, token_file, workers, env.wiki_path, allowed_hosts=allowed_hosts)
    except ModuleNotFoundError as missing:
        if missing.name not in {"fastapi", "starlette", "uvicorn"}:
            raise
        fail(f"serve needs {missing.name}: pip install 'wikicore[serve]'")
