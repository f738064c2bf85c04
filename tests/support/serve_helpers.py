"""Start a real ``wikicore serve`` (uvicorn) process on 127.0.0.1 for the server tests and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
#: A guard against a server that never comes up, not a measurement: start-up takes about a second.
START_GUARD = 60.0


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its base url, process and log file."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def api(self) -> str:
        return self.url + "/api/v1"

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, **kwargs)  # type: ignore[arg-type]


@contextmanager
def serving(wiki: Path, *args: str, log_dir: Path | None = None, port: int | None = None) -> Iterator[Server]:
    """``python -m wikicore.serve WIKI --port P ARGS...``, answered once, stopped (and its workers) after."""
    port = port or free_port()
    log = (log_dir or wiki.parent) / f"serve-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wikicore.serve", str(wiki), "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_for(server)
        yield server
    finally:
        stop(process)


def wait_for(server: Server) -> float:
    """Seconds until the server answered its first request (polling; raises if it died or never answered)."""
    start = time.monotonic()
    with httpx.Client(trust_env=False) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited: {server.log.read_text(errors='replace')}")
            try:
                client.get(server.url + "/robots.txt", timeout=2)
                return time.monotonic() - start
            except httpx.TransportError:
                if time.monotonic() - start > START_GUARD:
                    raise RuntimeError(f"no answer: {server.log.read_text(errors='replace')}") from None
                time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server we started, and its worker processes (its own session), by its id."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
