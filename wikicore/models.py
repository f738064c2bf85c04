"""The article model: Pydantic v2 records with no I/O.

An :class:`Article` is a tree of sections and paragraphs whose leaves are
:class:`Claim` objects, one statement each. A claim cites :class:`Reference`
objects through :class:`Citation` records (with an optional locator and the
supporting quote). Everything a reader sees is kept character for character;
nothing is normalised behind the user's back except what the field documents.

Ids are the backbone of history: a claim, section or reference keeps its id
while its text changes, so two revisions can be compared claim by claim. Objects
created without an id get a deterministic one (a short hash of their text,
de-duplicated within the article), so importing the same input twice gives the
same ids and the same bytes.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "Citation",
    "Claim",
    "ExternalLink",
    "IdMinter",
    "Media",
    "Paragraph",
    "Reference",
    "ReferenceType",
    "Section",
    "Source",
    "Template",
    "UrlStatus",
    "build_validators",
    "check_slug",
    "slugify",
]

#: Bumped when the stored format changes incompatibly.
SCHEMA_VERSION: Literal[1] = 1

# --- field types -------------------------------------------------------------

# Tab and newline are text; NEL (U+0085) is a line break some encodings use and
# must survive a round trip. Every other C0/C1 control and DEL is refused: they
# are invisible, break terminals and usually mean a decoding accident.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")


def _check_text(value: str) -> str:
    # One regex scan: this runs on every string of every article (a per-character
    # Python loop here was an eighth of a dump import's time).
    match = _FORBIDDEN_CHARS.search(value)
    if match is None:
        return value
    code, index = ord(match.group()), match.start()
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"lone surrogate U+{code:04X} at character {index}")
    raise ValueError(f"control character U+{code:04X} at character {index}")


Text = Annotated[str, AfterValidator(_check_text)]
"""A string with no lone surrogates and no control characters but tab, newline and NEL."""

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


def _check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f"invalid id {value!r}: use 1-80 ASCII letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _coerce_date(value: Any) -> Any:
    # YAML loaders other than ours, and Python callers, hand us date objects.
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    return value


def _check_date(value: str) -> str:
    match = _DATE_RE.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"{value!r} has no month {month}")
    if day is not None:
        try:
            _dt.date(year, month or 1, day)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    return value


PartialDate = Annotated[str, BeforeValidator(_coerce_date), AfterValidator(_check_date)]
"""An ISO date that may be partial (``1995``, ``1995-06``, ``1995-06-30``) but is always real."""

_LANG_RE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


def _check_language(value: str) -> str:
    if not _LANG_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a BCP 47 language tag (e.g. 'ja', 'en-GB')")
    return value


LanguageTag = Annotated[str, AfterValidator(_check_language)]

SLUG_MAX_BYTES = 120
_SLUG_CHARS = re.compile(r"^[\w.-]+$")
_GIT_NAMES = re.compile(r"^git(?:~\d+)?$|^git\.?$", re.IGNORECASE)


def check_slug(value: str) -> str:
    """Return ``value`` if it is safe as ``articles/<slug>.yaml``; raise ``ValueError`` otherwise.

    Slugs become file names inside a git work tree, so anything that could
    escape ``articles/``, hide a file, or name git's own files is refused: path
    separators, a leading dot or dash, ``..``, control characters, upper case,
    non-NFC text and names over 120 bytes. Letters of any script are fine.
    """
    if not value:
        raise ValueError("slug is empty")
    if len(value.encode("utf-8")) > SLUG_MAX_BYTES:
        raise ValueError(f"slug {value!r} is longer than {SLUG_MAX_BYTES} bytes")
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError(f"slug {value!r} is not in Unicode NFC form")
    if value != value.lower():
        raise ValueError(f"slug {value!r} must be lower case")
    if "/" in value or "\\" in value:
        raise ValueError(f"slug {value!r} contains a path separator")
    if value[0] in ".-" or value.endswith("."):
        raise ValueError(f"slug {value!r} may not start with '.' or '-' or end with '.'")
    if ".." in value:
        raise ValueError(f"slug {value!r} contains '..'")
    if not _SLUG_CHARS.fullmatch(value):
        raise ValueError(f"slug {value!r} may hold only letters, digits, '-', '_' and '.'")
    if _GIT_NAMES.fullmatch(value):
        raise ValueError(f"slug {value!r} names a git file")
    return value


Slug = Annotated[str, AfterValidator(check_slug)]

_REVISION_RE = re.compile(r"^[0-9a-f]{4,64}$")


def _check_revision(value: str) -> str:
    if not _REVISION_RE.fullmatch(value):
        raise ValueError(f"invalid revision {value!r}: a commit id is 4-64 lower-case hex digits")
    return value


RevisionId = Annotated[str, AfterValidator(_check_revision)]
"""A commit id as ``wikicore show`` records it: hex only, so it can reach git as it is."""


def slugify(title: str) -> str:
    """Make a slug from a title: NFKC, case-folded, runs of other characters become ``-``.

    >>> slugify("Azerbaijan–Russia relations")
    'azerbaijan-russia-relations'
    """
    text = unicodedata.normalize("NFKC", title).casefold()
    text = unicodedata.normalize("NFC", text)
    slug = re.sub(r"[^\w]+|_+", "-", text).strip("-")
    encoded = slug.encode("utf-8")[:SLUG_MAX_BYTES]
    slug = encoded.decode("utf-8", errors="ignore").strip("-.")
    if not slug:
        raise ValueError(f"cannot make a slug of {title!r}")
    return check_slug(slug)


def short_hash(text: str, length: int = 8) -> str:
    """A short, stable hex digest used to mint ids for objects that lack one."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()[:length]


class IdMinter:
    """Mints unique ids ``base``, ``base-2``, ``base-3``, ... in one shared namespace.

    Every place that mints ids (the model for objects without one, the wikitext
    importer for sections and references) goes through this class, so the
    scheme lives in one place. The ids are exactly those of the original
    probe-from-the-start loop (take ``base``, else the first free ``base-n``
    counting from 2), but the search for a base resumes where the last one for
    that base stopped: ids are only ever added, so every candidate up to the
    last one minted for a base is still taken. Minting k objects with the same
    text therefore costs O(k) probes in all, not k²/2 (1,000 sections of
    repeated text took 21.5 s, 7.3 of 9.4 s of a profile spent probing).
    """

    __slots__ = ("_next", "_taken")

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(taken)
        self._next: dict[str, int] = {}  # base -> the suffix its next search starts at

    def __contains__(self, ident: object) -> bool:
        return ident in self._taken

    def reserve(self, ident: str) -> None:
        """Mark an id given explicitly as taken, so no minted id collides with it."""
        self._taken.add(ident)

    def mint(self, base: str) -> str:
        """The first of ``base``, ``base-2``, ``base-3``, ... not yet taken; now taken."""
        n = self._next.get(base, 1)
        candidate = base if n == 1 else f"{base}-{n}"
        while candidate in self._taken:
            n += 1
            candidate = f"{base}-{n}"
        self._taken.add(candidate)
        self._next[base] = n + 1
        return candidate


# --- records -----------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        # `pages: 69` in a hand-written YAML file is meant as the string "69".
        coerce_numbers_to_str=True,
        use_enum_values=False,
        # Validators are built on first use, not at import: `wikicore list` and Tab completion load
        # the store (which imports the models) but never validate an article: start-up stays <= 0.3 s.
        defer_build=True,
    )


class ReferenceType(StrEnum):
    """What kind of source a reference is; mirrors the CS1 template families."""

    BOOK = "book"
    JOURNAL = "journal"
    NEWS = "news"
    WEB = "web"
    VIDEO = "video"
    OTHER = "other"


class UrlStatus(StrEnum):
    """CS1's ``url-status`` values: what the editor says about the original url."""

    LIVE = "live"
    DEAD = "dead"
    USURPED = "usurped"
    UNFIT = "unfit"
    DEVIATED = "deviated"


class Citation(_Model):
    """A claim's pointer to a reference, with where in it and what it says."""

    ref: Id = Field(description="Id of a reference of the same article.")
    locator: Text | None = Field(default=None, description="Page, section or timestamp in the source.")
    quote: Text | None = Field(default=None, description="The excerpt of the source that supports the claim.")
    covers: Literal["claim", "paragraph"] = Field(
        default="claim",
        description="`paragraph`: the citation ends its paragraph and also supports the claims before it that "
        "cite nothing themselves (Wikipedia's convention, WP:CITEFOOT); `claim` (the default): this claim only.",
    )


def _fill_id(data: Any, prefix: str, key: str) -> Any:
    """Before-validator: give a dict without an id one derived from its text."""
    if isinstance(data, dict) and not data.get("id"):
        basis = data.get(key)
        if isinstance(basis, str):
            data = {"id": f"{prefix}-{short_hash(basis)}", **data}
    return data


def _ids_complete(data: dict[str, Any]) -> bool:
    """True when every section, claim and reference dict already has an id: nothing to mint.

    Stored articles always have them; skipping the defensive deep copy for them
    halves validation (a 5,000-claim article: 0.06 s -> 0.03 s), and loading is most of reading a wiki.
    """

    def complete(items: Any) -> bool:
        return all(not isinstance(i, dict) or i.get("id") for i in items) if isinstance(items, list) else True

    def paragraphs_complete(paragraphs: Any) -> bool:
        return all(
            not isinstance(p, dict) or complete(p.get("claims"))
            for p in (paragraphs if isinstance(paragraphs, list) else [])
        )

    def sections_complete(sections: Any) -> bool:
        return complete(sections) and all(
            not isinstance(s, dict)
            or (paragraphs_complete(s.get("paragraphs")) and sections_complete(s.get("sections")))
            for s in (sections if isinstance(sections, list) else [])
        )

    return (complete(data.get("references")) and paragraphs_complete(data.get("lead"))
            and sections_complete(data.get("sections")))


class Claim(_Model):
    """One statement of the article, and the citations that support it."""

    id: Id = Field(description="Stable id; survives edits of the text.")
    text: Text = Field(description="The statement exactly as written, including trailing space.")
    citations: list[Citation] = Field(default_factory=list)
    wikitext: Text | None = Field(
        default=None, description="The exact source markup when it differs from `text` (wikitext import)."
    )
    citation_needed: bool = Field(
        default=False,
        description="An editor tagged the claim as needing a citation (`{{citation needed}}` on import); "
        "the audit reports it as uncited whatever cites or covers it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        return _fill_id(data, "c", "text")


class Paragraph(_Model):
    """A run of claims; joining their texts gives back the paragraph exactly."""

    claims: list[Claim] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The paragraph's text: its claims joined with nothing in between."""
        return "".join(claim.text for claim in self.claims)

    def support(self) -> list[list[Citation]]:
        """The citations that support each claim, in claim order.

        A claim's own citations, else the ``covers: paragraph`` citations of the
        next claim after it that cites anything (a citation that ends a paragraph
        stands for the sentences back to the previous citation). A claim tagged
        ``citation_needed`` is supported only by its own citations: the tag says
        an editor found the paragraph's source does not cover it.
        """
        support: list[list[Citation]] = [[] for _ in self.claims]
        covering: list[Citation] = []
        for index in range(len(self.claims) - 1, -1, -1):
            claim = self.claims[index]
            if claim.citations:
                support[index] = list(claim.citations)
                covering = [c for c in claim.citations if c.covers == "paragraph"]
            elif not claim.citation_needed:
                support[index] = list(covering)
        return support


class Media(_Model):
    """An image, infobox or other non-prose element; its caption is not a claim."""

    kind: Literal["image", "infobox", "audio", "video", "other"] = "image"
    caption: Text = ""
    file: Text | None = None
    section: Id | None = Field(default=None, description="Id of the section it appears in; none for the lead.")
    raw: Text | None = Field(default=None, description="The element's text exactly as imported.")


class Section(_Model):
    """A headed part of the article, possibly with subsections."""

    id: Id = Field(description="Stable id; survives edits of the heading.")
    heading: Text
    paragraphs: list[Paragraph] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        return _fill_id(data, "s", "heading")


class Reference(_Model):
    """A source: a book, article, page or recording a claim can rest on.

    Field names follow CS1 (``access_date``, ``archive_url``, ``url_status``) so
    that wikitext round-trips without loss; ``raw`` keeps the citation's text
    exactly as imported, whatever could or could not be parsed out of it.
    """

    id: Id
    type: ReferenceType = ReferenceType.OTHER
    name: Text | None = Field(default=None, description="The wikitext ref name, when it had one.")
    title: Text | None = None
    authors: list[Text] = Field(default_factory=list)
    date: PartialDate | None = None
    publisher: Text | None = None
    work: Text | None = Field(default=None, description="The newspaper, website, journal or book series.")
    language: LanguageTag | None = None
    url: Text | None = None
    isbn: Text | None = None
    doi: Text | None = None
    issn: Text | None = None
    volume: Text | None = None
    issue: Text | None = None
    pages: Text | None = None
    access_date: PartialDate | None = None
    archive_url: Text | None = None
    archive_date: PartialDate | None = None
    url_status: UrlStatus | None = None
    via: Text | None = None
    quote: Text | None = None
    raw: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            basis = next((data[k] for k in ("raw", "url", "title") if isinstance(data.get(k), str)), None)
            if basis is not None:
                data = {"id": f"r-{short_hash(basis)}", **data}
        return data


class ExternalLink(_Model):
    """A link listed under "External links": not a source of any claim."""

    title: Text
    url: Text | None = None


class Template(_Model):
    """Markup kept verbatim so that it round-trips: infoboxes, navboxes, hatnotes."""

    name: Text
    wikitext: Text
    section: Id | None = Field(default=None, description="Section it stood in; none for the lead.")


class Source(_Model):
    """Where an article was imported from, and what the importer could not determine."""

    format: Text
    file: Text | None = Field(default=None, description="The input's file name (no directories).")
    page_name: Text | None = Field(default=None, description="The page name exactly as the input gave it.")
    sha256: Text | None = None
    warnings: list[Text] = Field(default_factory=list)


class Article(_Model):
    """A wiki article as data. See the module docstring for the id rules."""

    schema_version: Literal[1] = SCHEMA_VERSION
    revision: RevisionId | None = Field(
        default=None,
        exclude=True,
        description="The wiki revision this copy was read from, as `wikicore show` records it; `wikicore save` "
        "uses it as the base. Not content: never stored, never compared, never diffed.",
    )
    slug: Slug
    title: Text
    language: LanguageTag | None = None
    aliases: list[Text] = Field(default_factory=list)
    lead: list[Paragraph] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    see_also: list[Text] = Field(default_factory=list, description="Titles of other wiki articles.")
    external_links: list[ExternalLink] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    categories: list[Text] = Field(default_factory=list)
    templates: list[Template] = Field(default_factory=list)
    source: Source | None = None

    def __eq__(self, other: object) -> bool:
        """Equal content: :attr:`revision` says where a copy was read from, and two copies of one text are equal."""
        if not isinstance(other, Article) or self.revision == other.revision:
            return super().__eq__(other)
        return self.model_copy(update={"revision": other.revision}) == other

    @model_validator(mode="before")
    @classmethod
    def _assign_ids(cls, data: Any) -> Any:
        """Mint ids for new objects, de-duplicating hashes of repeated text."""
        if not isinstance(data, dict):
            return data
        if _ids_complete(data):
            return data
        data = copy.deepcopy(data)  # never mutate the caller's dicts
        minter = IdMinter()

        def explicit(items: Any, key: str = "id") -> None:
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get(key), str) and item.get(key):
                    minter.reserve(item[key])
                elif isinstance(item, BaseModel):
                    minter.reserve(getattr(item, key))

        def walk_sections(sections: Any) -> Iterator[Any]:
            for section in sections if isinstance(sections, list) else []:
                yield section
                if isinstance(section, dict):
                    yield from walk_sections(section.get("sections"))

        def claims_of(paragraphs: Any) -> Iterator[Any]:
            for para in paragraphs if isinstance(paragraphs, list) else []:
                if isinstance(para, dict) and isinstance(para.get("claims"), list):
                    yield from para["claims"]

        sections = list(walk_sections(data.get("sections")))
        claims = list(claims_of(data.get("lead")))
        for section in sections:
            if isinstance(section, dict):
                claims.extend(claims_of(section.get("paragraphs")))
        explicit(sections)
        explicit(claims)
        explicit(data.get("references"))

        def mint(item: Any, prefix: str, basis: str | None) -> None:
            if not isinstance(item, dict) or item.get("id") or not isinstance(basis, str):
                return
            item["id"] = minter.mint(f"{prefix}-{short_hash(basis)}")

        for section in sections:
            mint(section, "s", section.get("heading") if isinstance(section, dict) else None)
        for claim in claims:
            mint(claim, "c", claim.get("text") if isinstance(claim, dict) else None)
        for ref in data.get("references") or []:
            if isinstance(ref, dict):
                basis = next((ref[k] for k in ("raw", "url", "title") if isinstance(ref.get(k), str)), None)
                mint(ref, "r", basis)
        return data

    @model_validator(mode="after")
    def _check_integrity(self) -> Article:
        """Ids are unique per kind and every citation names an existing reference."""
        problems: list[str] = []
        ref_ids = [r.id for r in self.references]
        for kind, ids in (
            ("reference", ref_ids),
            ("section", [s.id for _, s in self.iter_sections()]),
            ("claim", [c.id for _, c in self.iter_claims()]),
        ):
            seen: set[str] = set()
            for ident in ids:
                if ident in seen:
                    problems.append(f"duplicate {kind} id {ident!r}")
                seen.add(ident)
        known = set(ref_ids)
        for path, claim in self.iter_claims():
            for index, citation in enumerate(claim.citations):
                if citation.ref not in known:
                    hint = difflib.get_close_matches(citation.ref, ref_ids, n=1)
                    tip = f"; did you mean {hint[0]!r}?" if hint else ""
                    problems.append(
                        f"{path}.citations[{index}].ref: names no reference {citation.ref!r}{tip}"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- navigation --------------------------------------------------------

    def iter_sections(self) -> Iterator[tuple[str, Section]]:
        """Yield ``(field_path, section)`` for every section, depth first."""

        def walk(sections: list[Section], prefix: str) -> Iterator[tuple[str, Section]]:
            for index, section in enumerate(sections):
                path = f"{prefix}[{index}]"
                yield path, section
                yield from walk(section.sections, f"{path}.sections")

        yield from walk(self.sections, "sections")

    def iter_claims(self) -> Iterator[tuple[str, Claim]]:
        """Yield ``(field_path, claim)`` for every claim, lead first, in reading order."""

        def from_paragraphs(paragraphs: list[Paragraph], prefix: str) -> Iterator[tuple[str, Claim]]:
            for p_index, paragraph in enumerate(paragraphs):
                for c_index, claim in enumerate(paragraph.claims):
                    yield f"{prefix}[{p_index}].claims[{c_index}]", claim

        yield from from_paragraphs(self.lead, "lead")
        for path, section in self.iter_sections():
            yield from from_paragraphs(section.paragraphs, f"{path}.paragraphs")

    def iter_support(self) -> Iterator[tuple[Claim, list[Citation]]]:
        """Yield ``(claim, citations supporting it)`` in reading order (see :meth:`Paragraph.support`)."""
        paragraphs = [*self.lead, *(p for _, s in self.iter_sections() for p in s.paragraphs)]
        for paragraph in paragraphs:
            yield from zip(paragraph.claims, paragraph.support(), strict=True)

    def claims(self) -> list[Claim]:
        """Every claim in reading order."""
        return [claim for _, claim in self.iter_claims()]

    def claim_sections(self) -> Iterator[tuple[Section | None, Claim]]:
        """Yield ``(section, claim)``; the section is None for the lead."""
        for paragraph in self.lead:
            for claim in paragraph.claims:
                yield None, claim
        for _, section in self.iter_sections():
            for paragraph in section.paragraphs:
                for claim in paragraph.claims:
                    yield section, claim

    def reference(self, ref_id: str) -> Reference | None:
        """The reference with this id, or None."""
        return next((r for r in self.references if r.id == ref_id), None)

    def cited_reference_ids(self) -> set[str]:
        """Ids of the references that at least one claim cites."""
        return {c.ref for claim in self.claims() for c in claim.citations}


def build_validators() -> None:
    """Build every model's validator now instead of at its first use.

    The models defer this (``defer_build``) so a short CLI run that never validates an
    article does not pay for it; a long-running process (``wikicore serve``) calls this
    at start, so its first request does not pay the ~30 ms instead.
    """
    for model in (Citation, Claim, Paragraph, Media, Section, Reference, ExternalLink, Template, Source, Article):
        model.model_rebuild(force=True)
