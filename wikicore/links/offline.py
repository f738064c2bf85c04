"""When the checker itself was offline: the rule over a run's link results, for every caller.

On a machine without DNS or a route every site fails alike. A failure is
evidence against its site only in a run where other hosts answered; a run in
which nothing answered, or in which no host *name* answered and every named
host failed its lookup (only IP-literal hosts, which need no resolver, got
through), says that the checker was cut off. Such failures are not verdicts:
they become ``unchecked`` with :data:`OFFLINE` in their error, nothing is
recorded as dead, and callers exit 5 with one line (:attr:`Offline.message`).

The audit of articles (:mod:`wikicore.audit.live`), the audit of a scan's url
table (:mod:`wikicore.scan.urlaudit`) and :meth:`LinkChecker.check
<wikicore.links.checker.LinkChecker.check>` apply this one rule.
:class:`OfflineRule` reads a run's results one at a time, so a url table of
millions of rows is judged without holding them; the checker applies the same
rule before it records (its ``_Witness``), so an offline run writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ..net import host_key
from ..net.failures import LOOKUP_WORDS
from ..net.resolver import is_ip_literal
from .verdicts import LinkResult, LinkStatus

__all__ = ["OFFLINE", "Offline", "OfflineRule", "not_a_verdict", "run_offline"]

#: How a failure reads when its run showed the checker cut off: the checker, not the site, failed.
OFFLINE = "not checked: the checker itself was offline or blocked in this run"


def failed_now(result: LinkResult) -> bool:
    """A failure checked in this run that got no HTTP answer (a refusal by our policy is no check)."""
    if result.from_cache or result.http_status is not None:
        return False
    if result.status is LinkStatus.UNCHECKED:
        return (result.error or "").startswith(OFFLINE)
    return result.status in (LinkStatus.DEAD, LinkStatus.ERROR)


def _reason(result: LinkResult) -> str:
    return (result.error or "no answer").removeprefix(f"{OFFLINE}; ")


def lookup_failed(result: LinkResult) -> bool:
    """Whether the failure was the name lookup's (the resolver's words)."""
    return (result.error or "").removeprefix(f"{OFFLINE}; ").startswith(LOOKUP_WORDS)


def not_a_verdict(result: LinkResult) -> LinkResult:
    """``result``, a failure of the checker's own, as what it is: ``unchecked``, no failure in its history."""
    if result.status is LinkStatus.UNCHECKED:
        return result
    return replace(result, status=LinkStatus.UNCHECKED, error=f"{OFFLINE}; {_reason(result)}",
                   failures=0, first_failed=None, confirmed_dead=False)


@dataclass(frozen=True)
class Offline:
    """The run's checker was cut off: why (one line), and which failures that covers."""

    message: str
    #: Only failed lookups are the checker's (an IP-literal host answered: routes work, the resolver did not).
    lookups_only: bool

    def covers(self, result: LinkResult) -> bool:
        """Whether ``result`` is a failure of the checker's, not of its site."""
        return failed_now(result) and (not self.lookups_only or lookup_failed(result))

    def unchecked(self, result: LinkResult) -> LinkResult:
        """``result`` as :func:`not_a_verdict` when :meth:`covers` holds, else unchanged."""
        return not_a_verdict(result) if self.covers(result) else result


@dataclass
class _Tally:
    count: int = 0
    hosts: set[str] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, result: LinkResult) -> None:
        self.count += 1
        self.hosts.add(host_key(result.url))
        self.reasons[_reason(result).split(";")[0]] += 1


class OfflineRule:
    """Reads a run's results one by one (:meth:`see`); :meth:`offline` judges the run.

    Memory follows the distinct hosts and failure words, not the number of results.
    """

    def __init__(self) -> None:
        self.answered = False  # some host answered with HTTP in this run
        self.named = False  # a host *name* answered: the resolver works
        self._failed = _Tally()
        self._lookups = _Tally()

    def see(self, result: LinkResult) -> None:
        """Take one result of the run into account."""
        if not result.from_cache and result.http_status is not None:
            self.answered = True
            if not self.named and not is_ip_literal(urlsplit(result.url).hostname or ""):
                self.named = True
        elif failed_now(result):
            self._failed.add(result)
            if lookup_failed(result):
                self._lookups.add(result)

    def offline(self) -> Offline | None:
        """Why this run's failures are the checker's own; ``None`` when the checker was online."""
        if not self._failed.count:
            return None
        if not self.answered:
            culprits, what, lookups_only = self._failed, "answered", False
        elif self.named or not self._lookups.count:
            return None
        else:
            culprits, what, lookups_only = self._lookups, "resolved (only addresses without a name answered)", True
        common = ", ".join(f"{why} ({count})" for why, count in culprits.reasons.most_common(3))
        message = (
            f"the network failed as a whole: none of {culprits.count} url(s) on {len(culprits.hosts)} host(s) "
            f"{what} ({common}); no failure was recorded"
        )
        return Offline(message, lookups_only)


def run_offline(results: Iterable[LinkResult]) -> Offline | None:
    """:class:`OfflineRule` over ``results``, one run's."""
    rule = OfflineRule()
    for result in results:
        rule.see(result)
    return rule.offline()
