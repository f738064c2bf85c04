"""The ``--scheduler`` address, checked before Dask is let near it.

A Dask scheduler is trusted code: the client unpickles what it sends. So the
address is a trust boundary, and what answers there is looked at before
:class:`distributed.Client` is: Dask's own comm reads an 8-byte length and
allocates it, so an SSH banner read as a length raised ``MemoryError``, and a
peer announcing a 400 MB frame made the client zero-fill 481 MB and wait a
minute. Here:

* the address must be ``tcp://HOST:PORT`` (or ``HOST:PORT``) with a port in
  1-65535: ``tls://`` and ``ucx://`` need security or transport settings the
  command does not take;
* one plain TCP connection, with a short timeout, must reach it (a refused or
  silent port fails in seconds, not Dask's 30);
* the first message must be what a Dask scheduler sends on every new
  connection, its handshake: a few dozen bytes of msgpack (compression,
  Python version, pickle protocol), read under :data:`MAX_HANDSHAKE_BYTES`.
  It is decoded with msgpack alone, never Dask's deserializer (which may
  unpickle).
"""

from __future__ import annotations

import re
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

from ..errors import InvalidInput, NetworkError

__all__ = ["DEFAULT_PORT", "MAX_HANDSHAKE_BYTES", "PROBE_TIMEOUT", "check_scheduler", "parse_scheduler"]

#: Dask's scheduler port when an address names none.
DEFAULT_PORT = 8786
#: Seconds to connect to the scheduler and to read its handshake. A scheduler
#: writes its handshake as soon as it accepts (measured: about a millisecond on loopback).
PROBE_TIMEOUT = 5.0
#: Largest first message taken for a handshake: a real one is 58 bytes (distributed 2025).
MAX_HANDSHAKE_BYTES = 64 * 1024
#: Most frames a handshake message is split into (a real one has one).
_MAX_FRAMES = 16
_LENGTH = struct.Struct("Q")  # exactly what Dask's tcp comm frames with: native "Q"
#: A host name (RFC 1123 letters, digits, dots, hyphens) or an IP address (v6 without its brackets).
_HOST = re.compile(r"[A-Za-z0-9._-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def parse_scheduler(address: str) -> tuple[str, int]:
    """``(host, port)`` of a ``tcp://HOST:PORT`` address; InvalidInput naming the problem otherwise."""
    text = address.strip()
    shown = f"--scheduler {address!r}"
    scheme, sep, rest = text.partition("://")
    if not sep:
        if ":" not in text:  # a bare word is a typo, not a host on Dask's default port
            raise InvalidInput(f"{shown}: not a scheduler address; give tcp://HOST:PORT")
        scheme, rest = "tcp", text
    if scheme.lower() != "tcp":
        raise InvalidInput(f"{shown}: the {scheme}:// protocol is not supported; give tcp://HOST:PORT")
    try:
        parts = urlsplit(f"tcp://{rest}")
        port = parts.port
    except ValueError as error:
        raise InvalidInput(f"{shown}: not a scheduler address ({error}); give tcp://HOST:PORT") from None
    host = parts.hostname
    if (not host or not _HOST.fullmatch(host) or parts.path not in ("", "/") or parts.query or parts.fragment
            or parts.username is not None):
        raise InvalidInput(f"{shown}: not a scheduler address; give tcp://HOST:PORT")
    if port is None:
        port = DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise InvalidInput(f"{shown}: port {port} is outside 1-65535")
    return host, port


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(min(size - len(data), 65536))
        if not chunk:
            raise ConnectionError("the connection closed")
        data += chunk
    return bytes(data)


def _is_handshake(body: bytes) -> bool:
    """Whether ``body`` is Dask's framed handshake: frame lengths that add up, and a msgpack map of its keys."""
    import msgpack  # type: ignore[import-untyped]  # Dask's own dependency

    if len(body) < _LENGTH.size:
        return False
    (count,) = _LENGTH.unpack_from(body)
    if not 1 <= count <= _MAX_FRAMES or len(body) < _LENGTH.size * (1 + count):
        return False
    lengths = [_LENGTH.unpack_from(body, _LENGTH.size * (1 + i))[0] for i in range(count)]
    offset = _LENGTH.size * (1 + count)
    if offset + sum(lengths) != len(body):
        return False
    for length in lengths:
        frame = body[offset:offset + length]
        offset += length
        try:
            message: Any = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        except Exception:  # msgpack raises several unrelated classes for malformed bytes
            message = None
        if isinstance(message, dict) and "pickle-protocol" in message and "python" in message:
            return True
    return False


def check_scheduler(address: str, timeout: float = PROBE_TIMEOUT) -> str:
    """The address as Dask should be given it, once a Dask scheduler has been seen answering there.

    Raises :class:`~wikicore.errors.InvalidInput` for an address that is not
    ``tcp://HOST:PORT`` or a peer that does not speak Dask's protocol, and
    :class:`~wikicore.errors.NetworkError` when nothing answers within ``timeout``.
    """
    host, port = parse_scheduler(address)
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            (size,) = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))
            if not _LENGTH.size <= size <= MAX_HANDSHAKE_BYTES:
                raise InvalidInput(f"--scheduler {address!r}: the peer is not a Dask scheduler "
                                   f"(its first message claims {size:,} bytes)")
            body = _read_exactly(conn, size)
    except TimeoutError:
        raise NetworkError(f"cannot reach the Dask scheduler at tcp://{where}: "
                           f"no handshake within {timeout:g} s") from None
    except OSError as error:
        raise NetworkError(f"cannot reach the Dask scheduler at tcp://{where}: "
                           f"{error.strerror or error}") from None
    if not _is_handshake(body):
        raise InvalidInput(f"--scheduler {address!r}: the peer is not a Dask scheduler (its first message is "
                           "not Dask's handshake)")
    return f"tcp://{where}"
