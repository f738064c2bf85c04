"""``python -m wikicore.serve WIKI [--host H] [--port P] [--read-only] [--token-file F] [--workers N]``.

The same :func:`~wikicore.serve.app.run_server` as ``wikicore serve``, for tests,
benchmarks and a process supervisor that should not depend on the CLI. Errors
print one line and exit 2, as the CLI's do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import WikicoreError
from .config import DEFAULT_HOST, DEFAULT_PORT, MAX_BODY


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m wikicore.serve", description=__doc__)
    parser.add_argument("wiki", type=Path)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--token-file", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--allow-host", action="append", default=[])
    parser.add_argument("--max-body", type=int, default=MAX_BODY)
    args = parser.parse_args(argv)
    from .app import run_server

    try:
        run_server(args.host, args.port, args.read_only, args.token_file, args.workers, args.wiki,
                   allowed_hosts=args.allow_host, max_body=args.max_body)
    except WikicoreError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
