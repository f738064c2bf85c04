"""A real pywb archive on 127.0.0.1, serving WARCs written with warcio: for the tests and benchmarks.

The archive client is held to real archive software, not only to our fake of it; the demo
needs none of this, so it lives with the tests rather than in an installed wikicore.

:class:`PywbArchive` writes the captures it is given into a WARC (each with its
own date, status, headers and body: archived 404/429/503 pages and redirects
included), runs ``wb-manager init web`` and ``wb-manager add web``, writes a
``config.yaml`` and starts ``wayback -b 127.0.0.1 -p PORT`` in a scratch
folder. It waits until the server answers and stops it by its PID.

The configuration makes pywb look like a Wayback Machine without an
availability API:

* replay at ``/web/`` (the collection is named ``web``; ``framed_replay: false``
  so a replay is the page itself, ``redirect_to_exact: true`` so an inexact
  timestamp is redirected to the capture chosen, ``enable_memento: true``);
* the CDX server at ``/cdx/search/cdx``: ``cdx_api_endpoint: /search/cdx`` and a
  second collection named ``cdx`` on the same index and WARCs;
* with ``record=True``, the recording route ``/web/record/<url>`` (``recorder:
  live``, ``autoindex`` every second). The ``live`` collection it records from
  has an access list that blocks everything but 127.0.0.0/8, so pywb never
  fetches anything beyond loopback, whatever it is asked.

pywb and warcio come with the ``archive`` extra (``pip install -e '.[archive]'``);
:func:`pywb_binaries` finds ``wayback`` and ``wb-manager`` next to the running
Python or in ``$WIKICORE_PYWB_BIN``, so a separate virtualenv would do too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import TracebackType
from urllib.error import URLError
from urllib.request import urlopen

__all__ = ["PywbArchive", "PywbCapture", "PywbUnavailable", "pywb_binaries", "write_warc"]

ENV_BIN = "WIKICORE_PYWB_BIN"

#: Seconds to wait for ``wayback`` to answer (it takes about 3.5 s on the project's machine).
START_TIMEOUT = 60.0

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 410: "Gone",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class PywbUnavailable(RuntimeError):
    """pywb or warcio is not installed (tests skip on this)."""


@dataclass(frozen=True)
class PywbCapture:
    """One archived response: ``url`` as fetched at ``timestamp`` (``YYYYMMDDhhmmss``, UTC)."""

    url: str
    timestamp: str
    status: int = 200
    body: bytes = b""
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def warc_date(self) -> str:
        """The WARC-Date of the record."""
        when = datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def pywb_binaries() -> tuple[Path, Path]:
    """``(wayback, wb-manager)``; :class:`PywbUnavailable` when they cannot be found."""
    folders = [Path(os.environ[ENV_BIN])] if os.environ.get(ENV_BIN) else []
    folders.append(Path(sys.executable).parent)
    for folder in folders:
        wayback, manager = folder / "wayback", folder / "wb-manager"
        if wayback.is_file() and manager.is_file():
            return wayback, manager
    raise PywbUnavailable("pywb is not installed (pip install -e '.[archive]')")


def write_warc(path: Path, captures: Iterable[PywbCapture]) -> int:
    """Write ``captures`` as WARC response records with warcio; the number written."""
    try:
        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter
    except ImportError as error:
        raise PywbUnavailable("warcio is not installed (pip install -e '.[archive]')") from error
    count = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for capture in captures:
            headers = [("Content-Type", "text/html; charset=utf-8"), *capture.headers]
            if capture.location:
                headers.append(("Location", capture.location))
            body = capture.body or f"<html><body>{capture.url} at {capture.timestamp}</body></html>".encode()
            headers.append(("Content-Length", str(len(body))))
            status_line = f"{capture.status} {_REASONS.get(capture.status, 'Status')}"
            http = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                capture.url, "response", payload=BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": capture.warc_date},
            )
            writer.write_record(record)
            count += 1
    return count


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_CONFIG = """\
# Written by tests.servers.pywb: a Wayback-like pywb on loopback.
framed_replay: false
redirect_to_exact: true
enable_memento: true
cdx_api_endpoint: /search/cdx
{recorder}collections:
{live}  cdx:
    index_paths: ./collections/web/indexes/
    archive_paths: ./collections/web/archive/
"""

_RECORDER = "recorder: live\nautoindex: 1\n"
_LIVE = """\
  live:
    index: $live
    acl_paths: [./loopback.aclj]
    default_access: block
"""


class PywbArchive:
    """pywb serving ``captures`` on 127.0.0.1 (see the module doc); a context manager."""

    def __init__(self, captures: Iterable[PywbCapture] = (), *, record: bool = False, root: Path | None = None) -> None:
        self.captures = list(captures)
        self.record = record
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="wikicore-pywb-")) if root is None else Path(root)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the root to hand to :class:`~wikicore.archive.WaybackArchive`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        """What pywb wrote to its log so far."""
        path = self.root / "wayback.log"
        return path.read_text("utf-8", "replace") if path.is_file() else ""

    def start(self) -> PywbArchive:
        """Write the WARC, index it, start ``wayback`` and wait until it answers."""
        wayback, manager = pywb_binaries()
        self.root.mkdir(parents=True, exist_ok=True)
        warc = self.root / "captures.warc.gz"
        write_warc(warc, self.captures)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for command in ([str(manager), "init", "web"], [str(manager), "add", "web", str(warc)]):
            subprocess.run(command, cwd=self.root, env=env, check=True, capture_output=True, timeout=120)
        (self.root / "loopback.aclj").write_text('1,0,0,127 - {"access": "allow"}\n', "utf-8")
        (self.root / "config.yaml").write_text(
            _CONFIG.format(recorder=_RECORDER if self.record else "", live=_LIVE if self.record else ""), "utf-8"
        )
        started = time.monotonic()
        for _ in range(3):  # a port taken between choosing and binding: choose again
            self.port = _free_port()
            log = (self.root / "wayback.log").open("ab")
            self.process = subprocess.Popen(
                [str(wayback), "-b", "127.0.0.1", "-p", str(self.port)],
                cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            log.close()
            if self._wait_ready(started + START_TIMEOUT):
                self.startup_seconds = time.monotonic() - started
                return self
            self.stop()
        raise RuntimeError(f"pywb did not start; its log:\n{self.log[-2000:]}")

    def _wait_ready(self, until: float) -> bool:
        assert self.process is not None
        while time.monotonic() < until:
            if self.process.poll() is not None:
                return False
            try:
                with urlopen(f"{self.base_url}/cdx/search/cdx?url=http://127.0.0.1/", timeout=2) as answer:
                    if answer.status == 200:
                        return True
            except (URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop ``wayback`` by its PID (its process group: gevent workers included)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        """Stop the server and remove its scratch folder (if this object made it)."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PywbArchive:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
