"""What a server is started with, checked before anything listens: the bind rule and the token.

A wiki server on loopback is reachable only from this machine; anywhere else it
is reachable by anyone who can route to it, so a non-loopback address needs a
token, and every write then carries it. The configuration travels to uvicorn's
worker processes in environment variables (the token by its file's path, never
its value), so each worker builds the same app.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInput

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_BODY",
    "ServeConfig",
    "is_loopback",
    "read_token",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: The largest request body accepted: an article over the store's 10 MB read limit could not be
#: read back anyway (wikicore.serialize.MAX_BYTES), and JSON is a little larger than its YAML.
MAX_BODY = 12 * 1024 * 1024
#: A token shorter than this is refused: 16 bytes of randomness as hex is 32 characters.
MIN_TOKEN = 16

_ENV = "WIKICORE_SERVE_"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, IPv6 with or without brackets) is this machine only."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def read_token(path: str | os.PathLike[str]) -> str:
    """The bearer token in ``path``: its first line, at least :data:`MIN_TOKEN` visible ASCII characters."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or error
        raise InvalidInput(f"cannot read the token file {os.fspath(path)}: {why}") from None
    token = text.splitlines()[0].strip() if text.strip() else ""
    if len(token) < MIN_TOKEN or not all(33 <= ord(ch) <= 126 for ch in token):
        raise InvalidInput(
            f"the token in {os.fspath(path)} must be at least {MIN_TOKEN} visible ASCII characters on its first line"
        )
    return token


@dataclass(frozen=True)
class ServeConfig:
    """Everything the app needs; :meth:`check` applies the bind rule."""

    wiki_path: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    read_only: bool = False
    token_file: Path | None = None
    #: Host names (besides loopback and the bound address) that requests may name, for a server behind a name.
    allowed_hosts: tuple[str, ...] = ()
    max_body: int = MAX_BODY
    token: str | None = field(default=None, repr=False, compare=False)

    def check(self) -> ServeConfig:
        """This configuration with its token read; refuses a non-loopback bind without one."""
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is not a TCP port")
        token = read_token(self.token_file) if self.token_file is not None else None
        if not is_loopback(self.host) and token is None:
            raise InvalidInput(
                f"refusing to listen on {self.host}, which is not loopback, without --token-file: "
                "anyone who can reach it could edit the wiki"
            )
        return ServeConfig(self.wiki_path, self.host, self.port, self.read_only, self.token_file,
                           self.allowed_hosts, self.max_body, token)

    def host_names(self) -> frozenset[str]:
        """The names a request's ``Host`` may give (without port): loopback's, the bound address, the allowed."""
        names = {"localhost", "127.0.0.1", "::1", *(h.lower() for h in self.allowed_hosts)}
        if self.host not in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
            names.add(self.host.strip("[]").lower())
        return frozenset(names)

    def to_env(self) -> dict[str, str]:
        """The environment a worker process reads back with :meth:`from_env`."""
        env = {
            _ENV + "WIKI": str(self.wiki_path), _ENV + "HOST": self.host, _ENV + "PORT": str(self.port),
            _ENV + "READ_ONLY": "1" if self.read_only else "", _ENV + "ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            _ENV + "MAX_BODY": str(self.max_body),
        }
        env[_ENV + "TOKEN_FILE"] = str(self.token_file) if self.token_file else ""
        return env

    @classmethod
    def from_env(cls) -> ServeConfig:
        """The configuration :meth:`to_env` wrote, checked (the token file is read again here)."""
        get = os.environ.get
        wiki = get(_ENV + "WIKI")
        if not wiki:
            raise InvalidInput(f"{_ENV}WIKI is not set: start the server with `wikicore serve`")
        token_file = get(_ENV + "TOKEN_FILE") or None
        return cls(
            wiki_path=Path(wiki), host=get(_ENV + "HOST") or DEFAULT_HOST, port=int(get(_ENV + "PORT") or DEFAULT_PORT),
            read_only=bool(get(_ENV + "READ_ONLY")), token_file=Path(token_file) if token_file else None,
            allowed_hosts=tuple(h for h in (get(_ENV + "ALLOWED_HOSTS") or "").split(",") if h),
            max_body=int(get(_ENV + "MAX_BODY") or MAX_BODY),
        ).check()
