"""The citation audit's run: collect, check live, build the report.

:func:`audit_articles` runs in three phases and reports progress through a
callback (the library never prints):

1. **static** -- :func:`wikicore.audit.collect.collect` runs
   :func:`wikicore.audit.static.run_static_checks` on every article and keeps
   only the facts the verdicts need;
2. **links** -- the *distinct* http(s) urls of all articles, streamed through
   :func:`wikicore.links.checker.check_urls` with the link history database, so a
   url cited by ten articles is fetched once and a result younger than the TTL
   is reused without a request;
3. **archive** -- one batch of nearest-snapshot questions for every reference
   with a url (the snapshot nearest *before* its access date, else after), and
   a ``resolves`` question for every stored ``archive_url``; answers are
   cached in the same SQLite file (:mod:`wikicore.archive.cache`).

4. **sources** -- the texts of cited pages, live and captured
   (:mod:`wikicore.audit.quotes`): every quote checked, every reference with a
   capture near its access date compared for drift; ``no_quotes`` skips it.

Phases 2, 3 and 4 overlap: the archive lookups start as soon as the references
are known, in a thread of their own, and run beside the link checks (``bench/bench_audit.py``
measured 1.01x the slower phase over 2,000 references); each url's source
texts are read as soon as its link verdict is known, its captures as soon as
the archive has answered, so an audit takes about as long as its slowest
phase, not their sum. ``no_archive`` skips phase 3. Progress events of the
phases arrive interleaved, from several threads.

When the archive fails as a whole, or the network does (no checked url got any
answer, over several hosts), :attr:`AuditReport.network_failure` says so and
the CLI exits 5. Then each reference gets a verdict and its problems
(:mod:`wikicore.audit.verdicts`; the codes are tabled in :mod:`wikicore.audit.report`).

With ``offline`` (or no urls at all) nothing touches the network: urls get the
status ``unchecked`` and the report says so in ``notes``. A note that points
at an option names it as the caller does (``option_words``): the library
writes ``refresh=True``, the CLI its ``--refresh``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Unpack

from ..links.checker import LinkResult
from ..links.history import LinkDB
from ..models import Article
from .collect import Collected, ProblemPool, collect
from .live import ArchiveAnswers, check_links, look_up_archives, network_down
from .options import FIELD_WORDS, AuditEvent, AuditFields, AuditOptions, AuditPhase, OptionWords, Progress
from .quotes import SourceAnswers
from .report import ArticleAudit, AuditReport
from .source_phase import SourcePhase
from .source_verdicts import attach_sources
from .static import KnownTitles
from .verdicts import Evidence, article_audit

__all__ = ["audit_articles"]


def audit_articles(
    targets: Iterable[tuple[Article, str | None]],
    options: AuditOptions | None = None,
    *,
    known_titles: Iterable[str] | KnownTitles | None = None,
    progress: Progress | None = None,
    option_words: OptionWords = FIELD_WORDS,
    **fields: Unpack[AuditFields],
) -> AuditReport:
    """Audit ``(article, revision)`` pairs and return one report.

    ``options`` say what is checked and how (:class:`AuditOptions`); ``fields``
    are shorthand for its fields, applied over ``options``
    (``audit_articles(pairs, offline=True)``). ``known_titles`` enables the
    see-also check. ``progress`` may be called from two threads at once (links
    and archive run side by side). ``option_words`` is how the report's notes
    name an option to turn on, by field name (default: ``refresh=True``).
    """
    options = (options or AuditOptions()).replace(**fields)
    now = options.now()
    emit: Progress = progress or (lambda event: None)
    titles = None if known_titles is None else KnownTitles.of(known_titles)  # normalised once, shared
    pool = ProblemPool()
    found = collect(targets, options, options.today or now.date(), titles, pool, emit)
    notes: list[str] = []
    links: dict[str, LinkResult] = {}
    answers = ArchiveAnswers()
    network_failure: str | None = None
    sources: SourceAnswers | None = None

    if options.offline:
        notes.append(
            "offline: no link or archive was checked; every url is reported as 'unchecked' "
            "and only the static checks ran"
        )
    elif not found.urls and not found.stored:
        notes.append("no reference has a checkable url, so nothing was checked live; only the static checks ran")
    else:
        links, damaged, answers, read = _check_live(found, options, emit, notes, pool)
        said, network_failure = _live_notes(found, options, links, damaged, answers, option_words)
        notes.extend(said)
        if options.no_quotes:
            notes.append(f"{_word(option_words, 'no_quotes')}: quotes and content drift were not checked")
        elif network_failure is None:  # texts read through a failed network would all be "unchecked"
            sources = read

    evidence = Evidence(
        offline=options.offline,
        links=links,
        nearest=answers.nearest,
        resolved=answers.resolved,
        archive_unknown=answers.failed is not None or options.no_archive,
    )
    # Each compact record is replaced by its report entry as it is built.
    items = found.items
    del found
    count = len(items)
    items.reverse()
    built: list[ArticleAudit] = []
    while items:
        item = items.pop()
        built.append(attach_sources(article_audit(item, evidence, pool), item, sources, pool))
        del item
    articles = tuple(built)
    del built
    emit(AuditEvent(AuditPhase.DONE, count, count))
    return AuditReport(
        generated_at=now,
        offline=options.offline,
        notes=tuple(notes),
        articles=articles,
        network_failure=network_failure,
    )


def _check_live(
    found: Collected, options: AuditOptions, emit: Progress, notes: list[str], pool: ProblemPool
) -> tuple[dict[str, LinkResult], int, ArchiveAnswers, SourceAnswers | None]:
    """The link checks, with the archive lookups and the source-text phase beside them.

    The archive lookups run in a thread of their own; the source-text phase
    (:class:`SourcePhase`, unless ``no_quotes``) starts each url's work as its
    link verdict arrives and reads captures once the archive has answered, so
    the audit takes about as long as its slowest phase, not their sum.
    Returns the link results, how many damaged rows of the link history were
    skipped, the archive's answers and the source-text answers (None with
    ``no_quotes``); the archive thread adds its own notes (damaged cache rows)
    to ``notes``, which nothing else touches meanwhile.
    """
    queries = [] if options.no_archive else found.queries
    stored = [] if options.no_archive else found.stored
    lock = threading.Lock()
    answers = ArchiveAnswers()
    sources: SourceAnswers | None = None

    def safe_emit(event: AuditEvent) -> None:
        with lock:
            emit(event)

    # The link database is opened (validated, and found not locked by another process)
    # before the archive thread starts on the same file: a refusal is one clear error, at once.
    with contextlib.ExitStack() as stack:
        db_path = options.db_path
        db = stack.enter_context(LinkDB(db_path, clock=options.clock)) if db_path is not None and found.urls else None
        phase = None if options.no_quotes else stack.enter_context(SourcePhase(found.items, options, safe_emit, pool,
                                                                               checking=found.urls))
        side = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="wikicore-archive"))

        def look_up() -> ArchiveAnswers:
            looked = ArchiveAnswers()
            try:
                looked = look_up_archives(queries, stored, options, safe_emit, notes)
            finally:  # the phase's tasks wait for this answer, even when the lookups raised
                if phase is not None:
                    phase.archive(looked.nearest)
            return looked

        lookups: Future[ArchiveAnswers] | None = side.submit(look_up) if queries or stored else None
        if lookups is None and phase is not None:
            phase.archive({})
        links, damaged = check_links(found.urls, options, db, safe_emit, phase.link if phase is not None else None,
                                     pages=phase)
        if lookups is not None:
            answers = lookups.result()
        if phase is not None:
            sources = phase.finish()
    return links, damaged, answers, sources


def _live_notes(
    found: Collected,
    options: AuditOptions,
    links: dict[str, LinkResult],
    damaged: int,
    answers: ArchiveAnswers,
    words: OptionWords,
) -> tuple[list[str], str | None]:
    """What the live phases did not check or could not trust, said plainly; and any failure as a whole."""
    notes: list[str] = []
    network_failure: str | None = None
    if options.no_archive:
        notes.append(f"{_word(words, 'no_archive')}: archive coverage was not looked up")
    if answers.failed is not None:
        notes.append(f"archive lookups failed ({answers.failed}); archive coverage is unknown")
        network_failure = f"the archive failed as a whole: {answers.failed}"
    down = network_down(links)
    if down is not None:
        notes.append(down)
        network_failure = down if network_failure is None else f"{network_failure}; {down}"
    if damaged:
        notes.append(
            f"{damaged} damaged row(s) in the link history {options.db_path} were skipped "
            "(unknown status, bad date or non-JSON field)"
        )
    cached = sum(1 for result in links.values() if result.from_cache)
    if cached:
        notes.append(
            f"{cached} of {len(links)} link verdict(s) were reused from checks younger than "
            f"{_age(options.config.ttl)}; {_word(words, 'refresh')} rechecks them"
        )
    unchecked = [url for url in found.urls if url not in links]
    if unchecked:
        notes.append(f"{len(unchecked)} url(s) got no verdict from the link checker")
    return notes, network_failure


def _word(words: OptionWords, name: str) -> str:
    """How the caller says "turn on ``name``"; the library's own spelling where the caller gave none."""
    return words.get(name) or FIELD_WORDS[name]


def _age(delta: _dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g} day(s)" if hours >= 24 else f"{hours:g} hour(s)"
