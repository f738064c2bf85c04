"""`scan --scheduler`: the address is a trust boundary, checked before Dask reads a byte from it.

Hostile peers are real TCP servers on 127.0.0.1; the good one is a real Dask scheduler.
No case may end in exit 4 or wait Dask's 30-second timeouts.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import InvalidInput, NetworkError

pytest.importorskip("distributed")

from .test_scan import write_dump


class Peer:
    """A TCP server on 127.0.0.1 that sends ``greeting`` to each connection and then stays silent; counts them."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.held: list[socket.socket] = []

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            try:
                conn.sendall(self.greeting)
            except OSError:
                pass
            self.held.append(conn)  # kept open and silent: a client waiting for more waits for ever

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.listener.close()


GARBAGE = {
    "ssh-banner": b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n",
    "400-mb-frame": struct.pack("Q", 400 * 1024 * 1024) + b"\x00" * 64,
    "http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "frames-that-lie": struct.pack("Q", 24) + struct.pack("QQ", 1, 999) + b"\x00" * 8,
    "not-the-handshake": struct.pack("Q", 8 + 8 + 3) + struct.pack("QQ", 1, 3) + b"\x93\x01\x02",
}


@pytest.fixture
def fast_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.scan.engine as engine
    import wikicore.scan.scheduler as scheduler

    monkeypatch.setattr(scheduler, "PROBE_TIMEOUT", 1.0)
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 60.0)  # a test that reached Dask would blow its time


@pytest.mark.parametrize("greeting", list(GARBAGE.values()), ids=list(GARBAGE))
def test_a_peer_that_is_not_a_scheduler_is_bad_input_before_dask_reads_it(
    tmp_path: Path, greeting: bytes, fast_probe: None
) -> None:
    dump = write_dump(tmp_path / "d.xml")
    with Peer(greeting) as peer:
        result = CliRunner().invoke(main, ["scan", str(dump), "-o", str(tmp_path / "o"), "--scheduler", peer.address])
        assert peer.connections == 1  # one look, no Dask connection attempts after it
    assert result.exit_code == 2, result.output
    assert "not a Dask scheduler" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_a_silent_peer_is_a_network_failure_after_the_short_timeout(tmp_path: Path, fast_probe: None) -> None:
    from wikicore.scan.scheduler import check_scheduler


    with Peer(b"") as peer, pytest.raises(NetworkError, match="no handshake within 1 s"):
        check_scheduler(peer.address, timeout=1.0)


@pytest.mark.parametrize(
    "address",
    ["ucx://127.0.0.1:8786", "tls://127.0.0.1:8786", "tcp://127.0.0.1:99999", "tcp://:0", "tcp://127.0.0.1:0",
     "tcp://127.0.0.1:-1", "tcp://user@127.0.0.1:8786", "tcp://127.0.0.1:8786/path", "not an address at all"],
)
def test_addresses_that_are_not_tcp_host_port_are_refused_without_connecting(tmp_path: Path, address: str) -> None:
    dump = write_dump(tmp_path / "d.xml")
    result = CliRunner().invoke(main, ["scan", str(dump), "-o", str(tmp_path / "o"), "--scheduler", address])
    assert result.exit_code == 2, result.output
    assert "--scheduler" in result.stderr and "Traceback" not in result.output


def test_a_closed_port_is_refused_at_once(tmp_path: Path) -> None:
    from wikicore.scan.scheduler import check_scheduler

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(NetworkError, match="cannot reach"):
        check_scheduler(f"tcp://127.0.0.1:{port}")


@pytest.fixture
def real_scheduler() -> Iterator[str]:
    """A real Dask scheduler in a thread of this process (no workers: the probe needs none)."""
    from distributed import Scheduler

    ready = threading.Event()
    address: list[str] = []
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def run() -> None:
        stop.append(asyncio.Event())
        async with Scheduler(host="127.0.0.1", port=0, dashboard_address=":0") as scheduler:
            address.append(scheduler.address)
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield address[0]
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(30)


def test_a_real_scheduler_passes_the_look(real_scheduler: str) -> None:
    from wikicore.scan.scheduler import check_scheduler


    assert check_scheduler(real_scheduler) == real_scheduler
    assert check_scheduler(real_scheduler.removeprefix("tcp://")) == real_scheduler


def test_the_parser_names_the_problem() -> None:
    from wikicore.scan.scheduler import check_scheduler


    with pytest.raises(InvalidInput, match=r"the ucx:// protocol is not supported"):
        check_scheduler("ucx://127.0.0.1:1")
    with pytest.raises(InvalidInput, match="outside 1-65535"):
        check_scheduler("tcp://127.0.0.1:0")
