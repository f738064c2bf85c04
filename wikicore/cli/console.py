"""Everything the CLI writes: where output goes, whether it is coloured, and the one progress line.

Each command used to decide colour and draw progress in its own way (two colour
rules, five progress displays); a reader of the terminal should see one
behaviour, so the decisions live here once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable

import click

from ..report.base import terminal

__all__ = ["Progress", "progress", "use_color", "warn", "write"]


def write(text: str | Iterable[str], out: str | None) -> None:
    """Write to stdout (``None``, ``-``, ``/dev/stdout``) or through the one safe writer (:mod:`wikicore.output`).

    ``text`` may come in pieces (a large audit report): they are written one after another.
    """
    from ..output import is_stdout, write_file

    if out is None or is_stdout(out):
        for piece in (text,) if isinstance(text, str) else text:
            click.echo(piece, nl=False)
        return
    write_file(out, text)


def use_color(output: str | None = None) -> bool:
    """Colour only for stdout on a terminal, and never when NO_COLOR is set to anything (https://no-color.org)."""
    return output in (None, "-") and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def warn(message: object, prefix: str = "warning") -> None:
    """One ``prefix: message`` line on stderr, the message escaped for the terminal."""
    click.echo(f"{prefix}: {terminal(message)}", err=True)


class Progress:
    """One line on stderr, redrawn in place at most ten times a second: every command's progress display.

    A faster redraw shows nothing a reader can follow and costs the terminal time.
    Calls may come from two threads (link checks and archive lookups run side by
    side). Each redraw pads to the longest text drawn, so no tail of a longer
    one is left behind.
    """

    #: Seconds between two redraws at least.
    INTERVAL = 0.1

    def __init__(self) -> None:
        self._time = time.monotonic
        self._last = 0.0
        self._width = 0
        self._pending: str | None = None
        self._lock = threading.Lock()

    def show(self, text: str, *, force: bool = False) -> None:
        """Draw ``text``, unless a redraw was less than :attr:`INTERVAL` ago and ``force`` is false."""
        with self._lock:
            now = self._time()
            if not force and now - self._last < self.INTERVAL:
                self._pending = text
                return
            self._last = now
            self._pending = None
            click.echo(f"\r{text.ljust(self._width)}", err=True, nl=False)
            self._width = max(self._width, len(text))

    def clear(self) -> None:
        """Erase the line so what follows (a report, a summary) starts on a clean one."""
        if self._width:
            click.echo("\r" + " " * self._width + "\r", err=True, nl=False)

    def finish(self) -> None:
        """Keep the line, its last text drawn, and end it: for final counts the reader wants to see."""
        if self._pending is not None:
            self.show(self._pending, force=True)
        click.echo("", err=True)


def progress(quiet: bool) -> Progress | None:
    """A progress line for a terminal: in a log or a pipe, a redrawn line would be one long line."""
    return None if quiet or not sys.stderr.isatty() else Progress()
