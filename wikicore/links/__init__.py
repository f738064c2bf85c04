"""Link checking: one engine, its soft-404 rules and verdicts, and the link history.

:mod:`.checker` is the engine that turns URLs into verdicts (:func:`check_urls`),
standing on the HTTP stack in :mod:`wikicore.net`; :mod:`.verdicts` decides what
one fetch means, :mod:`.soft404` holds the "not found in disguise" rules and
their probe cache; :mod:`.history` keeps every observation in SQLite so that
"dead" is a judgement over time, not one failed request.
Names load on first use (see :mod:`wikicore._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .checker import BLOCKED_STATUSES, LinkChecker, LinkResult, LinkStatus, check_urls
    from .history import DeadState, LinkDB, Observation, dead_state

_EXPORTS = {
    **dict.fromkeys(["BLOCKED_STATUSES", "LinkChecker", "LinkResult", "LinkStatus", "check_urls"], "checker"),
    **dict.fromkeys(["DeadState", "LinkDB", "Observation", "dead_state"], "history"),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BLOCKED_STATUSES",
    "DeadState",
    "LinkChecker",
    "LinkDB",
    "LinkResult",
    "LinkStatus",
    "Observation",
    "check_urls",
    "dead_state",
]
