"""Walls between a reader and a fetched page: bot challenges, paywalls, login pages, consent pages.

One set of rules for everything that reads a fetched page, so a change to what
counts as a wall is made once: the link checker (:mod:`wikicore.links.verdicts`)
calls a bot wall ``blocked`` and a paywall, login or consent page ``live`` with a
note (a reader can get through, so the link is not broken); the source-text
phase (:mod:`wikicore.sources.fetch`) reads a bot wall as no text at all and
marks a paywall or login page, so that a quote the wall hides is ``unchecked``
rather than a false ``missing``. It lives here, at the bottom, because both
readers may import :mod:`wikicore.net` and neither may import the other.

Every rule was judged on real pages (``tests/data/realweb_labels.tsv`` and
``tests/test_sources_walls.py``): the words and structures below are the ones
real walls carry and real articles do not. A login form in a site's header (a
password field on Facebook's public pages, on Mediapart's and Salon's articles)
is not a wall: a login page is one whose *title* says it is a sign-in page, or
whose words say the content needs signing in.
"""

from __future__ import annotations

import html
import re
from enum import StrEnum

from .fetch import Fetch

__all__ = ["WallKind", "bot_wall", "fetch_wall", "page_wall", "wall_note"]


class WallKind(StrEnum):
    """What stands between a reader and a page that is there."""

    PAYWALL = "paywall"
    LOGIN = "login"
    CONSENT = "consent"


def _text(body: bytes) -> str:
    """A body as text (UTF-8, undecodable bytes replaced): pages lie about their charset too often to trust it."""
    return body.decode("utf-8", errors="replace")


# Bot walls, by the words a human reads and by the structure a browser runs: anywhere in the
# bytes read, since a Cloudflare challenge can carry its "checking your browser" text after a large
# inline image (seen at byte 446,351). The structures are the vendors' own challenge markup:
# Cloudflare's challenge platform and form, Sucuri's CloudProxy cookie script, Akamai's
# "Reference #" denial, DataDome's captcha-delivery frame, PerimeterX's _px scripts and captcha.
#: The words and markup, lower-cased; plain substring searches (each a fast scan in C) cost a
#: fraction of one regular expression with these alternatives on bench_links' pages.
_BOT_WALL_NEEDLES = (
    b"just a moment...", b"attention required! | cloudflare", b"checking your browser", b"cf-chl-",
    b"are you a robot", b"are you a human", b"verify you are human", b"verify you are a human", b"access denied | ",
    b"/cdn-cgi/challenge-platform/", b"cf_chl_opt", b'id="challenge-form"', b"id='challenge-form'",
    b"cf-browser-verification", b"sucuri_cloudproxy_js", b"sucuri website firewall", b"cloudproxy@sucuri",
    b"captcha-delivery.com", b"_pxappid", b"px-captcha",
)
_AKAMAI_DENIAL = re.compile(rb"you don't have permission to access .{0,300}?reference ?(?:#|&#35;)", re.DOTALL)
# A 200 that only sets a cookie and reloads (Sucuri's and others' JavaScript challenges): a script
# writing document.cookie and sending the browser back to the page, and next to no text.
_COOKIE_SET = re.compile(r"document\.cookie\s*=", re.IGNORECASE)
_RELOAD = re.compile(r"location\.reload\s*\(|(?:window\.|document\.)?location(?:\.href)?\s*=|location\.replace\s*\(",
                     re.IGNORECASE)
_SCRIPT_RE = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)
_TAGS_RE = re.compile(r"<[^>]*>")
#: Characters of visible text below which a cookie-and-reload page has no content of its own.
_CHALLENGE_TEXT = 400
#: Server names of the bot-wall vendors, for a 403/429/503 from their edge.
_WALL_SERVERS = ("cloudflare", "sucuri", "akamaighost", "datadome")

# Paywalls: structure first, schema.org's isAccessibleForFree (what Google asks paywalled
# publishers to mark up: SCMP's real article page says "False"), in the raw markup; then a
# publisher's own words, in the page's words (tags removed: la-bas.org writes
# "<a>Abonnez-vous</a> pour accéder"). A statement that the text is for subscribers is a wall by
# itself; a pitch ("subscribe to access all our content") only beside a sign-in form in the page
# (la-bas.org's real subscriber page offers "Déjà abonné.e ? Identifiez-vous" in place of the
# programme). A metered page that shows the whole article with "10 free articles left this month"
# (rnz.de's real page) is not a wall.
_PAYWALL_MARKUP = re.compile(r"[\"']isAccessibleForFree[\"']\s*:\s*[\"']?false", re.IGNORECASE)
_PAYWALL_WORDS = re.compile(
    r"subscribe (?:now )?to (?:continue|keep) reading|subscribe to read (?:the full|this)"
    r"|this (?:article|content|story) is (?:only )?(?:for|available to|reserved for) (?:paying )?subscribers"
    r"|(?:artikel|beitrag|inhalt) (?:ist )?(?:exklusiv |nur )?für (?:abonnenten|abonnentinnen)"
    r"|jetzt (?:abonnieren|abo abschließen) und weiterlesen"
    r"|(?:article|contenu|vidéo|émission) réservée? aux abonné|réservé aux abonnés"
    r"|(?:exclusivo|contenido exclusivo) para suscriptores|suscríbete para (?:seguir|continuar) leyendo",
)
_PAYWALL_PITCH = re.compile(
    r"subscribe (?:now )?to (?:access|read|get) (?:all|full|unlimited)"
    r"|abonnez-vous pour (?:lire|accéder|continuer|poursuivre)"
    r"|abonnieren sie,? um (?:weiterzulesen|alle)",
)
#: Where the words can be: each expression runs on the words around these (lower-cased) anchors
#: only. Run over whole pages they cost 1.6 ms a page of the real corpus, more than the whole wall
#: note did before (1.07 ms); an anchor costs one scan in C (bench/bench_walls.py: 0.9 ms in all).
_PAYWALL_ANCHORS = (b"subscri", b"abonn", b"abo ", b"suscr")
# Login walls. The strong words say the content needs signing in (speicherguide.de's real
# "Bitte melden Sie sich an, um diesen Artikel zu kommentieren" asks for a comment, not a
# reading); a login page is a page with a password field (outside scripts: 500px's real photo
# page keeps its sign-up form in a script template) whose title says it is one (LinkedIn's
# "Sign Up | LinkedIn" authwall, "Log in - ...").
_LOGIN_WORDS = re.compile(
    r"(?:sign|log) ?in to (?:continue|keep reading|read (?:the|this) (?:full )?(?:article|story|post))"
    r"|you (?:must|need to) (?:be )?(?:logged|signed) in to (?:read|view|see|access|continue)"
    r"|please (?:sign|log) ?in to (?:read|view|see|access|continue)"
    r"|melden sie sich an,? um (?:weiterzulesen|(?:den|diesen) (?:ganzen |vollständigen )?artikel zu lesen)"
    r"|connectez-vous pour (?:lire|accéder|continuer)",
)
_LOGIN_ANCHORS = (b"in to ", b"logged in", b"signed in", b"melden sie sich an", b"connectez-vous")
#: Bytes of markup read before and after an anchor (a phrase cut by long tags still fits).
_BEFORE, _AFTER = 400, 800
_LOGIN_TITLE = re.compile(
    r"^\s*(?:sign ?in|log ?in|sign ?up|anmelden|einloggen|connexion|se connecter|iniciar sesi[oó]n)\b"
    r"|[|–—-]\s*(?:sign ?in|log ?in|anmelden|connexion)\s*$",
    re.IGNORECASE,
)
_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_PASSWORD = re.compile(rb"<input\b[^>]*\btype\s*=\s*[\"']?password", re.IGNORECASE)
_SCRIPTS = re.compile(rb"<script\b.*?</script\s*>|<template\b.*?</template\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)

_CONSENT_HOSTS = ("consent.google.", "consent.yahoo.", "consent.youtube.", "myprivacy.dpgmedia.", "guce.")


def bot_wall(fetch: Fetch) -> str | None:
    """Why ``fetch`` is a bot wall or challenge rather than the page, or ``None``."""
    if fetch.headers.get("cf-mitigated", "").lower() == "challenge":
        return "bot wall: a Cloudflare challenge (cf-mitigated)"
    server = fetch.headers.get("server", "").lower()
    if fetch.status in (403, 429, 503) and any(vendor in server for vendor in _WALL_SERVERS):
        return f"bot wall: HTTP {fetch.status} from {server}"
    if fetch.status in (200, 202, 403, 429, 503) and fetch.body:
        low = fetch.body.lower()
        for needle in _BOT_WALL_NEEDLES:
            if needle in low:
                return f"bot wall: the page says {needle.decode()!r}"
        if b"permission to access" in low and _AKAMAI_DENIAL.search(low):
            return "bot wall: an Akamai denial ('Reference #')"
        if b"document.cookie" in low and b"location" in low:
            text = _text(fetch.body)
            if _COOKIE_SET.search(text) and _RELOAD.search(text):
                visible = _TAGS_RE.sub(" ", _SCRIPT_RE.sub(" ", text))
                if len(" ".join(visible.split())) < _CHALLENGE_TEXT:
                    return "bot wall: a page that only sets a cookie and reloads"
    return None


def _sign_in_form(body: bytes, low: bytes) -> bool:
    """A password field in the page's own markup (not in a script or template that may never show)."""
    return b"password" in low and _PASSWORD.search(_SCRIPTS.sub(b" ", body)) is not None


def _login_title(body: bytes) -> bool:
    title = _TITLE_RE.search(body)
    return title is not None and _LOGIN_TITLE.search(" ".join(_text(title.group(1)).split())) is not None


def _words(markup: bytes) -> str:
    """Words for the phrase rules: tags removed, entities decoded, lower case, spaces collapsed."""
    return " ".join(html.unescape(_TAGS_RE.sub(" ", _text(markup))).lower().split())


def _said(body: bytes, low: bytes, anchors: tuple[bytes, ...], pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` matches the words around some anchor in ``low`` (``body`` lower-cased)."""
    for anchor in anchors:
        at = low.find(anchor)
        while at >= 0:
            if pattern.search(_words(body[max(0, at - _BEFORE) : at + _AFTER])):
                return True
            at = low.find(anchor, at + _AFTER // 2)
    return False


def page_wall(body: bytes) -> WallKind | None:
    """Whether an HTML ``body`` is a paywall or a login page (see the module docstring), from its bytes alone.

    A page that says so in its markup or words; the reader may still see a lede
    (a metered paywall shows the first paragraphs), which is why a quote found on
    such a page still counts as found.
    """
    low = body.lower()
    if b"isaccessibleforfree" in low and _PAYWALL_MARKUP.search(_text(body)):
        return WallKind.PAYWALL
    if _said(body, low, _PAYWALL_ANCHORS, _PAYWALL_WORDS):
        return WallKind.PAYWALL
    if _said(body, low, _PAYWALL_ANCHORS, _PAYWALL_PITCH) and _sign_in_form(body, low):
        return WallKind.PAYWALL
    if _said(body, low, _LOGIN_ANCHORS, _LOGIN_WORDS):
        return WallKind.LOGIN
    if b"password" in low and _login_title(body) and _sign_in_form(body, low):
        return WallKind.LOGIN
    return None


def fetch_wall(fetch: Fetch) -> WallKind | None:
    """The wall a successful fetch ended at: a consent host it was sent to, or a paywall or login page."""
    final = (fetch.final_url or fetch.url).lower()
    if any(f"//{host}" in final or f".{host}" in final for host in _CONSENT_HOSTS):
        return WallKind.CONSENT
    return page_wall(fetch.body) if fetch.body else None


def wall_note(fetch: Fetch) -> str | None:
    """An info note for a live page behind a paywall, a login page or a consent page, or ``None``."""
    kind = fetch_wall(fetch)
    if kind is WallKind.CONSENT:
        return f"live behind a consent page ({fetch.final_url})"
    if kind is WallKind.PAYWALL:
        return "live behind a paywall: readers may need a subscription"
    if kind is WallKind.LOGIN:
        return "live behind a login page: readers may need to sign in"
    return None
