"""Paywall and login pages in the quote check: one wall rule (wikicore.net.walls), judged on real pages.

The pages are the verdict corpus' real pages (tests/support/realweb.py: trafilatura 0.9.3's and
htmldate 1.2.0's test caches, fetched from PyPI at test time). Each was labelled by reading it:
two are walls, SCMP's metered article (schema.org isAccessibleForFree "False") and Là-bas si j'y
suis's subscriber page (an "[EXTRAIT]" and "Abonnez-vous pour accéder à tous nos contenus" beside
the subscriber sign-in form in place of the programme). The rest are ordinary pages, among them
the hard ones named in :data:`NOT_WALLS`.
"""

from __future__ import annotations

import pytest

from tests.servers.realweb import RealWeb
from tests.support.realweb import Label, labels, page
from tests.support.sourcebed import LIVE_TYPE, bed_and_outcome
from wikicore.net import CheckConfig, CheckSession, Fetch
from wikicore.net.walls import WallKind, page_wall, wall_note
from wikicore.sources.extract import PageText, TextKind, page_text
from wikicore.sources.fetch import fetch_page, fetched_text, source_config
from wikicore.sources.quotes import PreparedText
from wikicore.sources.verdict import QuoteVerdict, Where, check_quote

#: The wall pages of the corpus, by reading them.
WALLS = {"scmp.com.playbook.html": WallKind.PAYWALL, "la-bas.org.porte.html": WallKind.PAYWALL}
#: Real pages that look like walls to a careless rule, and why they are not.
NOT_WALLS = {
    "facebook.com.visitaustria.html": "a public page with the login bar in its header (a password field)",
    "mediapart.fr.violences.html": "a blog post with a login layer in the markup",
    "salon.com.emissions.html": "an article with an old-account login form below it",
    "500px.com.spring.html": "a photo page whose sign-up form sits in a script template",
    "speicherguide.de.schwierige.html": "'Bitte melden Sie sich an, um diesen Artikel zu kommentieren': to comment",
    "rnz.de.witzel.html": "metered: 'Noch 10 Gratis-Artikel diesen Monat' with the whole dpa report shown",
    "weltwoche.ch.html": "the whole interview, with a registration form beside it",
}
LA_BAS_LEDE = "J’en ai une bien bonne pour toi"
ELSEWHERE = "Microsoft will invest US$1 billion over the next four years to speed up the development"
CONFIG = CheckConfig(allow_private=True, retries=0, host_interval=0.0, backoff=0.01)


def _fetched(body: bytes, content_type: str = "text/html; charset=utf-8") -> Fetch:
    """What a GET of a real page observed: status 200, its bytes, its type."""
    url = "https://example.org/a/page.html"
    return Fetch(url, "GET", 200, url, (), {"Content-Type": content_type}, body, len(body), False, None, None, 1, 0.0)


@pytest.fixture(scope="module")
def corpus() -> list[tuple[Label, bytes]]:
    return [(label, page(label)) for label in labels() if label.source in ("trafilatura", "htmldate")]


def _named(corpus: list[tuple[Label, bytes]], name: str) -> bytes:
    (body,) = [body for label, body in corpus if label.name == name]
    return body


def test_the_walls_of_the_real_corpus_and_nothing_else(corpus: list[tuple[Label, bytes]]) -> None:
    assert len(corpus) >= 150 and set(NOT_WALLS) <= {label.name for label, _ in corpus}
    found = {label.name: wall for label, body in corpus if (wall := page_wall(body)) is not None}
    assert found == WALLS


def test_a_paywall_page_is_text_marked_as_a_wall(corpus: list[tuple[Label, bytes]]) -> None:
    text = fetched_text(_fetched(_named(corpus, "la-bas.org.porte.html")))
    assert text.unreadable is None and text.wall == "paywall or login page"
    assert LA_BAS_LEDE in text.full  # the teaser is text a quote can be found in
    assert fetched_text(_fetched(_named(corpus, "facebook.com.visitaustria.html"))).wall is None


def test_a_login_page_by_its_title_and_form() -> None:
    """A sign-in page a paywall sends readers to: a password field in the page, a title that says so."""
    form = (b'<form method="post" action="/login"><input type="email" name="email">'
            b'<input type="password" name="password"><button>Sign in</button></form>')
    head = b"<!doctype html><html><head><title>Log in - The Daily Example</title></head>"
    body = head + b"<body>" + form + b"</body></html>"
    assert page_wall(body) is WallKind.LOGIN
    assert wall_note(_fetched(body)) == "live behind a login page: readers may need to sign in"
    # The same form in a script template, or a login title without a form, is not a login page.
    assert page_wall(body.replace(form, b'<script type="text/template">' + form + b"</script>")) is None
    assert page_wall(body.replace(form, b"<p>Signed out.</p>")) is None
    teaser = b"<html><head><title>A story</title></head><body><p>The lede.</p><p>Sign in to continue reading.</p>"
    assert page_wall(teaser) is WallKind.LOGIN


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("<p>Subscribe to continue reading.</p>", WallKind.PAYWALL),
        ("<p>Dieser <b>Artikel</b> ist exklusiv für Abonnenten.</p>", WallKind.PAYWALL),
        ("<p>Cet article est r&eacute;serv&eacute; aux abonn&eacute;s.</p>", WallKind.PAYWALL),
        ("<p>Suscríbete para seguir leyendo</p>", WallKind.PAYWALL),
        ("<p>Please log in to view this page.</p>", WallKind.LOGIN),
        # What ordinary pages say: a newsletter, a comment box, a header link, a metered counter.
        ("<p>Subscribe to our newsletter</p><p>Already a subscriber? <a>Sign in</a></p>", None),
        ("<p>Log in to comment.</p>", None),
        ("<a>Bitte melden Sie sich an, um diesen Artikel zu kommentieren.</a>", None),
        ("<p>Noch 10 Gratis-Artikel diesen Monat. <a>RNZonline Angebote</a></p><p>Abonnieren</p>", None),
    ],
)
def test_the_words_of_a_wall(words: str, kind: WallKind | None) -> None:
    body = f"<html><head><title>A story</title></head><body><p>The lede.</p>{words}</body></html>"
    assert page_wall(body.encode()) is kind


def test_quote_not_on_a_wall_page_is_unchecked_not_missing(corpus: list[tuple[Label, bytes]]) -> None:
    live = fetched_text(_fetched(_named(corpus, "la-bas.org.porte.html")))
    check = check_quote(ELSEWHERE, PreparedText.of(live))
    assert (check.status, check.reason) == (QuoteVerdict.UNCHECKED, "live page: paywall or login page; no capture")
    walled_capture = fetched_text(_fetched(_named(corpus, "scmp.com.playbook.html")))
    check = check_quote(ELSEWHERE, live, walled_capture)
    assert check.reason == "live page: paywall or login page; capture: paywall or login page"


def test_quote_in_the_lede_of_a_wall_page_is_found(corpus: list[tuple[Label, bytes]]) -> None:
    live = fetched_text(_fetched(_named(corpus, "la-bas.org.porte.html")))
    check = check_quote(LA_BAS_LEDE, live)
    assert (check.status, check.where, check.reason) == (QuoteVerdict.FOUND, Where.LIVE, None)


def test_the_capture_still_counts_behind_a_live_wall(corpus: list[tuple[Label, bytes]]) -> None:
    """As for a dead live page: in the capture is found where archive; a full capture without it is missing."""
    live = fetched_text(_fetched(_named(corpus, "la-bas.org.porte.html")))
    capture = page_text(_named(corpus, "vancouversun.com.microsoft.html"), "text/html")
    check = check_quote(ELSEWHERE, live, capture)
    assert (check.status, check.where, check.reason) == (
        QuoteVerdict.FOUND, Where.ARCHIVE, "live page: paywall or login page")
    other = page_text(_named(corpus, "rnz.de.witzel.html"), "text/html")
    check = check_quote(ELSEWHERE, live, other)
    assert (check.status, check.reason) == (QuoteVerdict.MISSING, "live page: paywall or login page")


def test_no_ordinary_page_of_the_bed_turns_unchecked() -> None:
    """Over the whole bed: quotes of other pages stay missing, present quotes stay found, walls aside."""
    bed, _ = bed_and_outcome()
    walls: set[str] = set()
    wrong: list[tuple[str, str, str | None]] = []
    for bed_page in bed:
        capture = fetched_text(_fetched(bed_page.capture, "text/html"))
        live = fetched_text(_fetched(bed_page.live["unchanged"], LIVE_TYPE))
        if live.wall is not None or capture.wall is not None:
            walls.add(f"{bed_page.name}.html")
        live_prepared, capture_prepared = PreparedText.of(live), PreparedText.of(capture)
        for quote in bed_page.absent:
            check = check_quote(quote, live_prepared, capture_prepared)
            expected = QuoteVerdict.UNCHECKED if live.wall and capture.wall else QuoteVerdict.MISSING
            if check.status is not expected:
                wrong.append((bed_page.name, check.status.value, check.reason))
        for quote in bed_page.present:
            check = check_quote(quote, live_prepared, capture_prepared)
            if check.status is not QuoteVerdict.FOUND:
                wrong.append((bed_page.name, check.status.value, quote))
    assert walls == set(WALLS) & {f"{p.name}.html" for p in bed}
    assert wrong == []


def test_fetched_through_the_network_layer() -> None:
    """Served on loopback: the subscriber page is marked, a bot challenge is no text at all."""
    with RealWeb() as web, CheckSession(source_config(CONFIG)) as session:
        by_path = {case.path: case for case in web.cases}
        la_bas = next(case for path, case in by_path.items() if path.endswith("/la-bas.org.porte.html"))
        _, text = fetch_page(session, web.url(la_bas))
        assert text.wall == "paywall or login page"
        _, blocked = fetch_page(session, web.url(by_path["/article/1"]))
        assert blocked.kind is TextKind.NONE and blocked.unreadable is not None
        assert blocked.unreadable.startswith("blocked (bot wall:")
        assert check_quote(ELSEWHERE, blocked).status is QuoteVerdict.UNCHECKED


def test_a_page_text_without_a_wall_is_unchanged() -> None:
    dead = PageText(TextKind.NONE, "", "", unreadable="HTTP 404")
    assert check_quote("anything at all that was quoted", dead).reason == "live page: HTTP 404; no capture"


def test_a_wall_page_is_neither_drift_nor_a_fingerprint(corpus: list[tuple[Label, bytes]]) -> None:
    """A wall's teaser is not the source's text: comparing it with a capture would call the page drifted."""
    import datetime as dt

    from wikicore.archive import Snapshot
    from wikicore.audit.quotes import SourceTask, run_task

    with RealWeb() as web, CheckSession(source_config(CONFIG)) as session:
        by_path = {case.path: case for case in web.cases}
        la_bas = next(case for path, case in by_path.items() if path.endswith("/la-bas.org.porte.html"))
        article = next(case for path, case in by_path.items() if path.endswith("/vancouversun.com.microsoft.html"))
        day = dt.date(2020, 1, 1)
        capture = Snapshot(web.url(la_bas), dt.datetime(2019, 12, 1, tzinfo=dt.UTC), 200, web.url(article))

        def task(live: str) -> SourceTask:
            return SourceTask(live, None, None, {day: (capture, True, set())})

        walled = run_task(task(web.url(la_bas)), session)
        assert walled.drift == {}
        assert [kind for kind, _, _ in walled.prints] == []
        # The same question about an ordinary live page is answered: the rule is the wall, not the setup.
        plain = run_task(task(web.url(article)), session)
        assert set(plain.drift) == {(web.url(article), day)}
        assert [kind for kind, _, _ in plain.prints] == ["live", "capture"]
