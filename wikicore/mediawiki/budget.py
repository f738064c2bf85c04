"""The work budgets of one page's import, and the refusals when a page is over one.

mwparserfromhell's tokenizer cannot be interrupted, and some markup makes it
retry over the rest of the page (quadratic work): a hostile page could hang an
import or a scan. So the size and the unclosed markup of a page are measured
*before* parsing, in one linear pass, and the time spent after parsing is
checked where the importer loops. Each refusal is a
:class:`~wikicore.errors.BudgetExceeded` naming the page, so a dump import or
a scan reports it and goes on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ..errors import BudgetExceeded

__all__ = ["MAX_CHARS", "MAX_UNCLOSED_WORK", "PAGE_SECONDS", "Deadline", "check_size", "check_unclosed",
           "unclosed_markup"]

#: Largest input we parse (characters); the biggest Wikipedia articles are ~1 MB.
#: The page's size budget: mwparserfromhell tokenizes about 1 MB of ordinary markup in 1-4 s here.
MAX_CHARS = 10 * 1024 * 1024

#: The page's work budget for markup that never closes: (unclosed openers) x (characters of the page).
#: mwparserfromhell retries each unclosed ``{{``, tag start (``<ref `` with no ``>``) and, more cheaply,
#: ``[``, over the rest of the page: 4,000 unclosed ``{{a|`` took 27-38 s, 10,000 never finished,
#: 10 of them before 1 MB of prose took 23 s (3.9 s without), 500 ``<ref name=`` 2.3 s (measured on a
#: loaded 2-core machine: 1-2 us per unit). 2M units keep a page under a few seconds,
#: and no real article we have comes near: the ten npm real articles and every fixture have 0 or
#: close to it (Anarchism: 4 stray ``[`` in 190 KB).
MAX_UNCLOSED_WORK = 2_000_000
#: Weight of an unclosed ``[``: about a sixteenth of an unclosed template in the measurements above,
#: counted as a quarter to stay on the safe side.
_BRACKET_WEIGHT = 4

#: The page's time budget (seconds), checked between sections and paragraphs. The tokenizer itself
#: cannot be interrupted, which is why MAX_CHARS and MAX_UNCLOSED_WORK bound it beforehand; this
#: catches whatever else grows too slow. 4,000 sections of repeated text (580 KB) import in ~1.5 s.
PAGE_SECONDS = 60.0

#: What :func:`unclosed_markup` counts: template openers and closers, a tag start with no ``>``
#: before the next ``<``, and brackets.
_OPENERS = re.compile(r"\{\{|\}\}|<[A-Za-z][^<>]*(?=<|\Z)|\[|\]")


def unclosed_markup(text: str) -> int:
    """How many openers in ``text`` never close, weighted by what they cost mwparserfromhell.

    Templates and brackets are matched with a depth counter, left to right (a
    ``}}`` before any ``{{`` closes nothing, so ``}}}}{{a|{{a|`` counts two);
    a tag start with no ``>`` before the next ``<`` is one unclosed tag. One
    linear pass, no parsing.
    """
    templates = brackets = tags = 0
    for match in _OPENERS.finditer(text):
        piece = match.group()
        if piece == "{{":
            templates += 1
        elif piece == "}}":
            templates = max(0, templates - 1)
        elif piece == "[":
            brackets += 1
        elif piece == "]":
            brackets = max(0, brackets - 1)
        else:
            tags += 1
    return templates + tags + (brackets + _BRACKET_WEIGHT - 1) // _BRACKET_WEIGHT


def check_size(text: str, where: str) -> None:
    """Refuse a page over :data:`MAX_CHARS` before anything else reads it."""
    if len(text) > MAX_CHARS:
        raise BudgetExceeded(where, f"input is over {MAX_CHARS:,} characters")


def check_unclosed(text: str, where: str) -> None:
    """Refuse, before parsing, a page whose unclosed markup would take mwparserfromhell too long."""
    unclosed = unclosed_markup(text)
    if unclosed * len(text) > MAX_UNCLOSED_WORK:
        raise BudgetExceeded(where, f"{unclosed:,} unclosed templates, tags or brackets in {len(text):,} "
                                    f"characters: over the wikitext parser's budget ({MAX_UNCLOSED_WORK:,} "
                                    "opener-characters); not imported")


@dataclass
class Deadline:
    """The page's time budget, checked where the importer loops (sections, paragraphs)."""

    where: str
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        """Raise :class:`~wikicore.errors.BudgetExceeded` once the page has taken over ``seconds``."""
        if time.monotonic() - self.start > self.seconds:
            raise BudgetExceeded(self.where, f"import took over {self.seconds:g} s (the per-page time budget)")
