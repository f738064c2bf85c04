"""A Wayback-Machine-compatible archive on 127.0.0.1, for the demo and the tests.

``python -m wikicore.demo`` rescues dead links from it, offline; the tests hold the archive
client to the Internet Archive's formats with it. It models the archive faithfully (blocked
sites, index misses, a server without the batch API are things the real one does); the
trouble a test provokes on purpose (queued 429s and errors, added latency) is added by the
tests' subclass in ``tests/servers/wayback.py``, so an installed wikicore ships none of it.

It answers the four endpoints wikicore uses, in the Internet Archive's formats:

``GET /wayback/available?url=&timestamp=[&closest=][&status_code=]``
    ``{"url": ..., "archived_snapshots": {"closest": {"available": true, "url": ...,
    "timestamp": "YYYYMMDDhhmmss", "status": "200"}}}`` or ``"archived_snapshots": {}``
    (IA's documented form; ``status`` is a string, as the real API sends it).
``POST /wayback/available`` with ``Wayback-Api-Version: 2``
    a body of newline-separated query strings (``url``, ``timestamp``,
    ``closest=before|after``, repeated ``statuscodes``, ``tag``), at most 100;
    the answer is ``{"results": [{"url", "timestamp", "tag", "archived_snapshots"}]}``.
    No recording of this form was available (EDGI's ``wayback`` 0.5.1 records
    CDX and playback only), so it follows the Internet Archive's description
    and the per-result shape of the single form.
``GET /cdx/search/cdx``
    space-separated lines ``urlkey timestamp original mimetype statuscode digest
    length`` (as in the recorded real responses), or ``output=json`` (a header
    row then rows); ``matchType`` exact/prefix, ``from``/``to``, repeated
    ``filter=[!]field:regex``, ``closest`` with ``sort=closest``, ``sort=reverse``,
    ``limit`` (negative: the last N), ``fl``. A URL in ``blocked`` answers 403
    with the real "Blocked Site Error" body.
``GET /web/<timestamp><flags>/<url>``
    302 to the nearest capture's exact timestamp (with
    ``X-Archive-Redirect-Reason``), else the memento itself with
    ``Memento-Datetime`` and ``Link``: 200 and a body for a 200 capture, the
    recorded status for an archived error page, a 302 to the archived target for
    an archived redirect; 404 when there is no capture.
``GET|POST /save/<url>``
    Save Page Now: records a capture stamped now and answers 302 with
    ``Location`` and ``Content-Location`` pointing at it.

``counts`` counts requests per endpoint and ``log`` lists them, ``batch=False`` makes
the batch form 404 like a server that lacks it, ``availability_misses`` lists URLs
the availability API does not find although CDX does, ``blocked`` lists URLs whose
CDX answer is the 403 of an excluded site. Run it by hand for the demo::

    python -m wikicore.testing.wayback --port 8765 --snapshots snapshots.json
"""

from __future__ import annotations

import argparse
import base64
import collections
import email.utils
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

__all__ = ["Capture", "FakeWayback", "main", "surt"]

ENDPOINTS = ("available", "available-batch", "cdx", "web", "save")
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
BATCH_LIMIT = 100
BLOCKED_BODY = (
    "org.archive.util.io.RuntimeIOException: "
    "org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error\n"
)
_TS = re.compile(r"^/web/(\d{1,14})((?:[a-z]{2}_)*)/(.+)$", re.DOTALL)


def surt(url: str) -> str:
    """A simplified SURT key, as the CDX ``urlkey`` column: ``http://www.Example.com/a/`` → ``com,example)/a``.

    Scheme, ``www.``, default ports and a trailing slash do not matter, as in
    the Wayback Machine's canonicalisation.
    """
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    key = ",".join(reversed(host.split(".")))
    if port and port not in (80, 443):
        key += f":{port}"
    path = parts.path.lower() or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return key + ")" + path + (f"?{parts.query.lower()}" if parts.query else "")


def _pad(ts: str, high: bool = False) -> str:
    """Complete a partial timestamp to 14 digits, at the start (or end) of its period."""
    if high:
        return (ts + "99991231235959"[len(ts) :])[:14]
    return (ts + "00000101000000"[len(ts) :])[:14]


def _seconds(ts: str) -> float:
    padded = _pad(ts)
    try:
        when = datetime.strptime(padded, "%Y%m%d%H%M%S")
    except ValueError:  # not a real time: order it by its year alone
        when = datetime(int(padded[:4]), 1, 1)
    return when.replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Capture:
    """One capture held by the fake archive."""

    url: str
    timestamp: str
    status: int = 200
    mimetype: str = "text/html"
    location: str | None = None  # for an archived redirect: where it pointed
    html: str | None = None  # the page as captured; None: a line naming the capture

    @property
    def key(self) -> str:
        """The capture's SURT key."""
        return surt(self.url)

    @property
    def digest(self) -> str:
        """A stable 32-character stand-in for the content digest."""
        raw = hashlib.sha1(f"{self.url} {self.timestamp} {self.status}".encode()).digest()  # noqa: S324
        return base64.b32encode(raw).decode()

    def body(self) -> bytes:
        """The replayed page."""
        if self.html is not None:
            return self.html.encode()
        title = "Not Found" if self.status == 404 else f"Archived {self.url}"
        return f"<html><head><title>{title}</title></head><body>{title} at {self.timestamp}</body></html>".encode()

    def cdx_row(self) -> list[str]:
        """The capture as a CDX row, in :data:`CDX_FIELDS` order."""
        return [self.key, self.timestamp, self.url, self.mimetype, str(self.status), self.digest, str(len(self.body()))]


def _as_capture(item: Capture | Mapping[str, Any]) -> Capture:
    if isinstance(item, Capture):
        return item
    status = item.get("status", item.get("statuscode", 200))
    return Capture(
        url=str(item["url"]),
        timestamp=_pad(str(item["timestamp"])),
        status=int(status),
        mimetype=str(item.get("mimetype", "text/html")),
        location=item.get("location"),
        html=item.get("html"),
    )


def load_snapshots(data: Any) -> list[Capture]:
    """Captures from JSON: a list of ``{"url", "timestamp", "status"?, "html"?}``, or ``{url: [timestamp, ...]}``."""
    if isinstance(data, Mapping):
        data = data.get("captures", data)
    if isinstance(data, Mapping):
        items: list[Any] = []
        for url, stamps in data.items():
            for stamp in stamps:
                items.append({**stamp, "url": url} if isinstance(stamp, Mapping) else {"url": url, "timestamp": stamp})
        data = items
    return [_as_capture(item) for item in data]


class QuietServer(ThreadingHTTPServer):
    """A threading server whose handlers die with the process and whose clients may hang up.

    Hostile tests hang up on purpose; the default ``handle_error`` would print each hang-up's
    traceback to ``sys.stderr`` from a server thread, where a CLI test running at that moment
    captures it as its own output.
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and closed its socket is what timeout tests do.
        return


#: What to answer instead of the real thing: status, headers, body (see :meth:`FakeWayback.note`).
Injected = tuple[int, dict[str, str], bytes]


class FakeWayback:
    """A loopback Wayback server; a context manager that starts and stops it."""

    def __init__(
        self,
        snapshots: Iterable[Capture | Mapping[str, Any]] = (),
        *,
        batch: bool = True,
        blocked: Iterable[str] = (),
        availability_misses: Iterable[str] = (),
        save_status: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.batch = batch
        self.blocked = {surt(u) for u in blocked}
        # URLs the availability API does not see although CDX has them, as the
        # real one sometimes answers {} for heavily captured or slow-to-index URLs.
        self.availability_misses = {surt(u) for u in availability_misses}
        self.save_status = dict(save_status or {})
        self.counts: collections.Counter[str] = collections.Counter()
        self.log: list[tuple[str, str]] = []
        self.saved: list[str] = []
        self._captures: dict[str, list[Capture]] = collections.defaultdict(list)
        self._lock = threading.Lock()
        for item in snapshots:
            self.add(item)
        self._server = QuietServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    # --- control ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the root to hand to ``WaybackArchive``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeWayback:
        """Serve in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="fake-wayback", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeWayback:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def add(self, capture: Capture | Mapping[str, Any]) -> Capture:
        """Hold one more capture."""
        record = _as_capture(capture)
        with self._lock:
            bucket = self._captures[record.key]
            bucket.append(record)
            bucket.sort(key=lambda c: c.timestamp)
        return record

    def captures(self, url: str) -> list[Capture]:
        """Every capture of ``url`` (by SURT key), oldest first."""
        with self._lock:
            return list(self._captures.get(surt(url), []))

    def serve(self) -> None:
        """Serve in this thread until interrupted, then close the socket (``python -m``)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def note(self, command: str, path: str, endpoint: str | None) -> Injected | None:
        """Log and count one request; what to answer instead of the real thing (None: the real thing).

        The request handler calls this first; the tests' subclass answers with queued failures here.
        """
        with self._lock:
            self.log.append((command, path))
            if endpoint:
                self.counts[endpoint] += 1
        return None

    def total_requests(self) -> int:
        """Requests served, all endpoints together."""
        return sum(self.counts.values())

    # --- lookups (the request handler's) ------------------------------------------

    def nearest(
        self, url: str, timestamp: str | None, closest: str = "either", statuses: set[int] | None = None
    ) -> Capture | None:
        """The capture of ``url`` nearest ``timestamp`` (the newest without one), ``closest`` before or after."""
        candidates = [c for c in self.captures(url) if not statuses or c.status in statuses]
        if not candidates:
            return None
        if not timestamp:
            return candidates[-1]
        target = _seconds(timestamp)
        if closest == "before":
            candidates = [c for c in candidates if _seconds(c.timestamp) <= target]
        elif closest == "after":
            candidates = [c for c in candidates if _seconds(c.timestamp) >= target]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (abs(_seconds(c.timestamp) - target), c.timestamp))

    def availability(self, params: Mapping[str, list[str]]) -> dict[str, Any]:
        """The availability API's answer to one query (``url``, ``timestamp``, ``closest``, status codes)."""
        url = params.get("url", [""])[0]
        timestamp = params.get("timestamp", [""])[0] or None
        closest = params.get("closest", ["either"])[0]
        codes = params.get("statuscodes", []) + params.get("status_code", [])
        statuses = {int(c) for c in codes if c.isdigit()}
        answer: dict[str, Any] = {"url": url}
        if timestamp:
            answer["timestamp"] = timestamp
        capture = (
            None if surt(url) in self.availability_misses else self.nearest(url, timestamp, closest, statuses or None)
        )
        answer["archived_snapshots"] = (
            {
                "closest": {
                    "status": str(capture.status),
                    "available": True,
                    "url": f"{self.base_url}/web/{capture.timestamp}/{capture.url}",
                    "timestamp": capture.timestamp,
                }
            }
            if capture
            else {}
        )
        return answer

    def cdx(self, query: str) -> tuple[int, str, str]:
        """``(status, content type, body)`` of the CDX server for a query string."""
        params = parse_qs(query, keep_blank_values=True)
        url = params.get("url", [""])[0]
        if not url:
            return 400, "text/plain", "Request must include url parameter\n"
        key = surt(url)
        if key in self.blocked:
            return 403, "text/plain;charset=UTF-8", BLOCKED_BODY
        if params.get("matchType", ["exact"])[0] == "prefix" or url.endswith("*"):
            prefix = surt(url.rstrip("*"))
            with self._lock:
                rows = [c for k, caps in self._captures.items() if k.startswith(prefix) for c in caps]
        else:
            rows = self.captures(url)
        if "from" in params:
            low = _pad(params["from"][0])
            rows = [c for c in rows if c.timestamp >= low]
        if "to" in params:
            high = _pad(params["to"][0], high=True)
            rows = [c for c in rows if c.timestamp <= high]
        for spec in params.get("filter", []):
            negate = spec.startswith("!")
            name, _, pattern = spec.lstrip("!").partition(":")
            if name not in CDX_FIELDS:
                return 400, "text/plain", f"Invalid filter field {name}\n"
            index = CDX_FIELDS.index(name)
            regex = re.compile(pattern)
            rows = [c for c in rows if bool(regex.fullmatch(c.cdx_row()[index])) != negate]
        rows.sort(key=lambda c: (c.key, c.timestamp))
        sort = params.get("sort", [""])[0]
        if sort == "closest" and "closest" in params:
            target = _seconds(params["closest"][0])
            rows.sort(key=lambda c: abs(_seconds(c.timestamp) - target))
        elif sort == "reverse":
            rows.reverse()
        if "limit" in params and params["limit"][0].lstrip("-").isdigit():
            limit = int(params["limit"][0])
            rows = rows[:limit] if limit >= 0 else rows[limit:]
        fields = [f for f in params.get("fl", [",".join(CDX_FIELDS)])[0].split(",") if f in CDX_FIELDS]
        table = [[c.cdx_row()[CDX_FIELDS.index(f)] for f in fields] for c in rows]
        if params.get("output", [""])[0] == "json":
            return 200, "application/json", json.dumps([fields, *table]) if table else "[]"
        return 200, "text/plain;charset=UTF-8", "".join(" ".join(row) + "\n" for row in table)

    def save(self, url: str) -> Capture:
        """Save Page Now: record a capture of ``url`` stamped now (distinct from earlier ones)."""
        with self._lock:
            self.saved.append(url)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        existing = {c.timestamp for c in self.captures(url)}
        while stamp in existing:  # two saves in one second still get distinct captures
            stamp = str(int(stamp) + 1)
        return self.add(Capture(url=url, timestamp=stamp, status=self.save_status.get(url, 200)))


def _memento_headers(server: FakeWayback, capture: Capture) -> dict[str, str]:
    when = datetime.strptime(capture.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    web = f"{server.base_url}/web"
    return {
        "Memento-Datetime": email.utils.format_datetime(when, usegmt=True),
        "Link": (
            f'<{capture.url}>; rel="original", <{web}/timemap/link/{capture.url}>; rel="timemap"; '
            f'type="application/link-format", <{web}/{capture.url}>; rel="timegate", '
            f'<{web}/{capture.timestamp}/{capture.url}>; rel="memento"; '
            f'datetime="{email.utils.format_datetime(when, usegmt=True)}"'
        ),
    }


def _handler_for(server: FakeWayback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeWayback/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read counts instead
            return

        def _send(
            self, status: int, body: bytes | str = b"", ctype: str = "text/plain", headers: Mapping[str, str] = {}
        ) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _endpoint(self) -> str | None:
            path = self.path
            if path.startswith("/wayback/available"):
                return "available-batch" if self.command == "POST" else "available"
            if path.startswith("/cdx/search/cdx"):
                return "cdx"
            if path.startswith("/web/"):
                return "web"
            if path.startswith("/save/"):
                return "save"
            return None

        def _dispatch(self) -> None:
            endpoint = self._endpoint()
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            failure = server.note(self.command, self.path, endpoint)
            if endpoint is None:
                self._send(404, "not found\n")
            elif failure is not None:
                status, headers, body = failure
                self._send(status, body or f"injected {status}\n".encode(), headers=headers)
            elif endpoint == "available":
                self._json(server.availability(parse_qs(urlsplit(self.path).query)))
            elif endpoint == "available-batch":
                self._batch(payload)
            elif endpoint == "cdx":
                status, ctype, text = server.cdx(urlsplit(self.path).query)
                self._send(status, text, ctype)
            elif endpoint == "web":
                self._web()
            else:
                self._save_page()

        do_GET = _dispatch
        do_POST = _dispatch
        do_HEAD = _dispatch

        def _json(self, value: Any, status: int = 200) -> None:
            self._send(status, json.dumps(value), "application/json")

        def _batch(self, payload: bytes) -> None:
            if not server.batch or self.headers.get("Wayback-Api-Version") != "2":
                self._send(404, "not found\n")
                return
            lines = [line for line in payload.decode("utf-8", "replace").splitlines() if line.strip()]
            if len(lines) > BATCH_LIMIT:
                self._json({"error": f"at most {BATCH_LIMIT} urls per request"}, 400)
                return
            results = []
            for line in lines:
                params: dict[str, list[str]] = collections.defaultdict(list)
                for name, value in parse_qsl(line, keep_blank_values=True):
                    params[name].append(value)
                answer = server.availability(params)
                if params.get("tag"):
                    answer["tag"] = params["tag"][0]
                results.append(answer)
            self._json({"results": results})

        def _web(self) -> None:
            match = _TS.match(self.path)
            if match:
                stamp, flags, original = match[1], match[2], match[3]
            else:
                stamp, flags, original = "", "", self.path[len("/web/") :]
            capture = server.nearest(original, _pad(stamp) if stamp else None)
            if capture is None:
                self._send(404, "<html><title>Wayback Machine</title>Hrm. Not in archive.</html>", "text/html")
                return
            if capture.timestamp != stamp:
                self._send(
                    302,
                    b"",
                    headers={
                        "Location": f"{server.base_url}/web/{capture.timestamp}{flags}/{capture.url}",
                        "X-Archive-Redirect-Reason": f"found capture at {capture.timestamp}",
                    },
                )
                return
            headers = _memento_headers(server, capture)
            if 300 <= capture.status < 400 and capture.location:
                headers["Location"] = f"{server.base_url}/web/{capture.timestamp}{flags}/{capture.location}"
                self._send(capture.status, b"", headers=headers)
                return
            self._send(capture.status, capture.body(), capture.mimetype, headers)

        def _save_page(self) -> None:
            url = self.path[len("/save/") :]
            if not url.lower().startswith(("http://", "https://")):
                self._send(400, "Invalid URL\n")
                return
            capture = server.save(url)
            where = f"/web/{capture.timestamp}/{capture.url}"
            self._send(
                302,
                b"",
                headers={"Location": f"{server.base_url}{quote(where, safe=':/?&=%')}", "Content-Location": where},
            )

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve a fake Wayback Machine until interrupted (for the demo)."""
    parser = argparse.ArgumentParser(prog="python -m wikicore.testing.wayback", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--snapshots", type=Path, help="JSON file of captures")
    args = parser.parse_args(argv)
    snapshots = load_snapshots(json.loads(args.snapshots.read_text("utf-8"))) if args.snapshots else []
    fake = FakeWayback(snapshots, port=args.port)
    print(fake.base_url, flush=True)  # the one line a demo script reads
    fake.serve()


if __name__ == "__main__":
    main()
