"""Claim-level three-way merge: two edits of one base revision become one article, or a named conflict.

A line merge (diff3, as MediaWiki does it) conflicts whenever two edits touch
neighbouring lines of the YAML and happily splices halves of two claims; a
refusal (Gollum) throws the second edit away. wikicore knows what an article is
made of, so it merges *items*, each compared by id across base, theirs and yours:

* every article-level field (title, language, aliases, categories, ...);
* every reference (all its fields together: a url and its archive link belong together);
* every section's heading, and its place (its parent section);
* every claim's content (text, citations, wikitext), and its place (its section and
  whether it starts a paragraph);
* the order of each list of siblings (claims in a section, sections under a parent,
  the references), merged by id rather than by position.

For each item the rule is the classic one: taken from the side that changed it;
when both changed it the same way, that value; when both changed it differently
(a deletion against an edit included), a conflict naming the item with its three
values. Order is merged by id: elements whose place neither side changed keep
the base order, and each element added or moved by one side goes right after its
nearest predecessor on that side, theirs before yours when both insert at the
same point (theirs was saved first). An edit that leaves a citation pointing at a
reference the other edit deleted is a conflict on that reference.

So a merge never loses an edit (every item one side changed has that side's
value) and never invents one (an item neither side changed is the base's), and
two edits of disjoint items give exactly the article both edits applied in turn
would give. ``tests/test_merge.py`` holds those three properties under
Hypothesis.

:func:`save_merging` is the merge on save: try the save against the base; on an
edit conflict, merge the latest revision with the edit over the base and save
that against the latest, repeating if yet another save slipped in between.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import EditConflict, InvalidInput
from .models import Article, Reference

if TYPE_CHECKING:
    from .revision import Revision
    from .store import Wiki

__all__ = [
    "MAX_MERGE_ATTEMPTS",
    "ConflictItem",
    "ItemKind",
    "MergeConflict",
    "MergeFailed",
    "MergeResult",
    "MergedItem",
    "SaveOutcome",
    "Side",
    "merge_articles",
    "save_merging",
]

#: How often :func:`save_merging` re-merges when another save lands between its merge and its save.
#: Each retry needs a save by someone else inside one merge (milliseconds); ten in a row means a
#: writer storm, and the caller is better told than kept waiting.
MAX_MERGE_ATTEMPTS = 10

#: The article fields merged as whole values (the structure is merged item by item below).
_ARTICLE_FIELDS = (
    "title", "language", "aliases", "see_also", "external_links", "media", "categories", "templates", "source",
)  # fmt: skip

_LEAD = "(lead)"  # the container key of the lead; section ids never contain parentheses


class ItemKind(StrEnum):
    """What a merged or conflicting item is."""

    FIELD = "field"
    REFERENCE = "reference"
    SECTION = "section"
    CLAIM = "claim"
    ORDER = "order"
    ARTICLE = "article"


class Side(StrEnum):
    """Which edit an item of the merged article came from."""

    THEIRS = "theirs"
    YOURS = "yours"
    BOTH = "both"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MergedItem(_Frozen):
    """An item one edit changed and the merge took: ``aspect`` says which part (``content``, ``place``)."""

    kind: ItemKind
    id: str
    aspect: str = "content"
    side: Side


class ConflictItem(_Frozen):
    """An item both edits changed differently, with its three values (None: absent on that side)."""

    kind: ItemKind
    id: str
    aspect: str = "content"
    message: str
    base: Any = Field(default=None, description="The item at the base revision, as JSON; null when absent.")
    theirs: Any = Field(default=None, description="The item at the latest revision (the other edit).")
    yours: Any = Field(default=None, description="The item in the edit being saved.")


class MergeResult(_Frozen):
    """A successful merge: the merged article and the items each edit contributed."""

    article: Article
    merged: list[MergedItem] = Field(default_factory=list)

    @property
    def from_theirs(self) -> list[MergedItem]:
        """The other edit's changes that the merge kept (the ones a "no merge" save would have lost)."""
        return [item for item in self.merged if item.side != Side.YOURS]


class MergeFailed(_Frozen):
    """A merge that could not be made: every conflicting item."""

    slug: str
    conflicts: list[ConflictItem]


class MergeConflict(EditConflict):
    """A save whose base is stale and whose edit overlaps the other edit: :class:`EditConflict` with the items.

    A subclass, so everything that handles an edit conflict (the CLI's exit status 3) handles it too.
    """

    def __init__(self, slug: str, base: str | None, current: str | None, failure: MergeFailed) -> None:
        super().__init__(slug, base, current)
        self.failure = failure
        names = ", ".join(f"{c.kind} {c.id}" + ("" if c.aspect == "content" else f" ({c.aspect})")
                          for c in failure.conflicts[:10])
        more = f" and {len(failure.conflicts) - 10} more" if len(failure.conflicts) > 10 else ""
        self.args = (f"{self.args[0]}; both edits changed {names}{more}",)


@dataclass(frozen=True)
class SaveOutcome:
    """What :func:`save_merging` did: the revision saved, and the merge when there was one."""

    revision: Revision
    merge: MergeResult | None = None
    #: The revision the edit was merged with (the latest when the save began); None without a merge.
    merged_with: str | None = None


# --- the pieces of an article -------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True)
class _Pieces:
    """An article taken apart into items keyed by id, and the orders of their sibling lists."""

    fields: dict[str, Any]
    references: dict[str, Reference]
    ref_order: list[str]
    headings: dict[str, str]
    section_parent: dict[str, str]  # section id -> parent section id or _LEAD for top level
    section_children: dict[str, list[str]]  # parent -> child section ids in order
    claims: dict[str, Any]  # claim id -> the claim as JSON (content)
    claim_place: dict[str, tuple[str, bool]]  # claim id -> (container, starts a paragraph)
    claim_order: dict[str, list[str]]  # container -> claim ids in order
    empty_paragraphs: bool


def _pieces(article: Article) -> _Pieces:
    fields = {name: _json(getattr(article, name)) for name in _ARTICLE_FIELDS}
    references = {r.id: r for r in article.references}
    headings: dict[str, str] = {}
    section_parent: dict[str, str] = {}
    section_children: dict[str, list[str]] = {_LEAD: []}
    claims: dict[str, Any] = {}
    claim_place: dict[str, tuple[str, bool]] = {}
    claim_order: dict[str, list[str]] = {}
    empty = False

    def paragraphs(container: str, paras: Iterable[Any]) -> None:
        nonlocal empty
        order = claim_order.setdefault(container, [])
        for paragraph in paras:
            if not paragraph.claims:
                empty = True
            for index, claim in enumerate(paragraph.claims):
                claims[claim.id] = claim.model_dump(mode="json", exclude_defaults=True)
                claim_place[claim.id] = (container, index == 0)
                order.append(claim.id)

    paragraphs(_LEAD, article.lead)

    def walk(sections: Iterable[Any], parent: str) -> None:
        for section in sections:
            headings[section.id] = section.heading
            section_parent[section.id] = parent
            section_children.setdefault(parent, []).append(section.id)
            section_children.setdefault(section.id, [])
            paragraphs(section.id, section.paragraphs)
            walk(section.sections, section.id)

    walk(article.sections, _LEAD)
    return _Pieces(fields, references, [r.id for r in article.references], headings, section_parent,
                   section_children, claims, claim_place, claim_order, empty)


# --- three-way rules ------------------------------------------------------------------

_ABSENT = object()


class _Merger:
    """Collects merged values, what each side contributed, and conflicts, item by item."""

    def __init__(self) -> None:
        self.merged: list[MergedItem] = []
        self.conflicts: list[ConflictItem] = []

    def item(
        self, kind: ItemKind, ident: str, base: Any, theirs: Any, yours: Any, *, aspect: str = "content",
        shown: Callable[[Any], Any] = _json,
    ) -> Any:
        """The merged value of one item (``_ABSENT`` for "not there"); records a conflict when there is none."""
        if theirs == yours:
            if theirs != base:
                self.merged.append(MergedItem(kind=kind, id=ident, aspect=aspect, side=Side.BOTH))
            return theirs
        if theirs == base:
            self.merged.append(MergedItem(kind=kind, id=ident, aspect=aspect, side=Side.YOURS))
            return yours
        if yours == base:
            self.merged.append(MergedItem(kind=kind, id=ident, aspect=aspect, side=Side.THEIRS))
            return theirs

        def show(value: Any) -> Any:
            return None if value is _ABSENT else shown(value)

        if theirs is _ABSENT or yours is _ABSENT:
            who = "theirs" if theirs is _ABSENT else "yours"
            message = f"{kind} {ident} was deleted in {who} and changed in the other edit"
        elif base is _ABSENT:
            message = f"{kind} {ident} was added by both edits with different {aspect}"
        else:
            message = f"both edits changed the {aspect} of {kind} {ident}"
        self.conflicts.append(ConflictItem(
            kind=kind, id=ident, aspect=aspect, message=message, base=show(base), theirs=show(theirs),
            yours=show(yours),
        ))
        return _ABSENT

    def deleted_and_moved(self, kind: ItemKind, ident: str, base: dict[str, str], theirs: dict[str, str],
                          yours: dict[str, str], moved_theirs: set[str], moved_yours: set[str]) -> None:
        """A conflict when one side deleted the item and the other moved it (to another parent, or in order).

        A move is an edit like any other: deleting the item would silently drop it.
        """
        if ident not in base:
            return
        for deleted, other, moved, who in ((theirs, yours, moved_yours, "yours"), (yours, theirs, moved_theirs,
                                                                                    "theirs")):
            if ident not in deleted and ident in other and (other[ident] != base[ident] or ident in moved):
                self.conflicts.append(ConflictItem(
                    kind=kind, id=ident, aspect="place",
                    message=f"{kind} {ident} was deleted in one edit and moved in {who}",
                    base={"parent": base[ident]}, theirs={"parent": theirs[ident]} if ident in theirs else None,
                    yours={"parent": yours[ident]} if ident in yours else None,
                ))

    def order(self, ident: str, base: Sequence[str], theirs: Sequence[str], yours: Sequence[str],
              keep: Iterable[str]) -> list[str]:
        """Merge one list of sibling ids; ``keep`` is the ids the merged list holds (decided item by item)."""
        keep = list(dict.fromkeys(keep))
        wanted = set(keep)
        base_set = set(base)
        by_theirs = _moved(base, theirs) | (set(theirs) - base_set)
        by_yours = _moved(base, yours) | (set(yours) - base_set)
        both = by_theirs & by_yours & wanted
        for element in sorted(both):
            if _neighbours(theirs, element, wanted) != _neighbours(yours, element, wanted):
                self.conflicts.append(ConflictItem(
                    kind=ItemKind.ORDER, id=element, aspect=f"place in {ident}",
                    message=f"both edits moved or added {element} in {ident}, at different places",
                    base=list(base), theirs=list(theirs), yours=list(yours),
                ))
        result = [x for x in base if x in wanted and x not in by_theirs and x not in by_yours]
        placed_by_theirs: set[str] = set()
        for side, members in ((theirs, by_theirs), (yours, by_yours - by_theirs)):
            for index, element in enumerate(side):
                if element not in members or element not in wanted or element in result:
                    continue
                at = 0
                for before in reversed(side[:index]):
                    if before in result:
                        at = result.index(before) + 1
                        break
                if side is yours:
                    # Theirs was saved first: at the same point, its insertions come before ours.
                    while at < len(result) and result[at] in placed_by_theirs:
                        at += 1
                else:
                    placed_by_theirs.add(element)
                result.insert(at, element)
        # An element kept but placed by no list (its container changed on a side that also dropped it
        # from the list it moved to) cannot happen for articles built from lists; keep it, never lose it.
        result += [x for x in keep if x not in result]
        return result


def _moved_in(base: dict[str, list[str]], side: dict[str, list[str]]) -> set[str]:
    """Every element ``side`` moved within one of its lists (the lists keyed alike in both)."""
    return set().union(*(_moved(base.get(key, []), items) for key, items in side.items()))


def _moved(base: Sequence[str], side: Sequence[str]) -> set[str]:
    """Elements of both lists that ``side`` moved: those outside a longest run kept in base order."""
    position = {x: i for i, x in enumerate(base)}
    common = [x for x in side if x in position]
    # Longest increasing subsequence of base positions (patience sorting), with back links.
    tails: list[int] = []
    tail_index: list[int] = []
    back: list[int] = [-1] * len(common)
    for i, element in enumerate(common):
        value = position[element]
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        back[i] = tail_index[k - 1] if k else -1
    kept: set[str] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        kept.add(common[i])
        i = back[i]
    return set(common) - kept


def _neighbours(side: Sequence[str], element: str, wanted: set[str]) -> tuple[str | None, str | None]:
    index = list(side).index(element)
    before = next((x for x in reversed(side[:index]) if x in wanted), None)
    after = next((x for x in side[index + 1:] if x in wanted), None)
    return before, after


def _get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, _ABSENT)


def merge_articles(base: Article, theirs: Article, yours: Article) -> MergeResult | MergeFailed:
    """Merge two edits (``theirs``, saved first, and ``yours``) of ``base``, claim by claim.

    Returns the merged article with the items each side contributed, or every
    conflicting item with its base, theirs and yours values. The slug must be
    the same on all three (a rename is not merged).
    """
    if not (base.slug == theirs.slug == yours.slug):
        raise InvalidInput(f"cannot merge edits of different articles: {base.slug!r}, {theirs.slug!r}, {yours.slug!r}")
    b, t, y = _pieces(base), _pieces(theirs), _pieces(yours)
    m = _Merger()

    fields: dict[str, Any] = {}
    for name in _ARTICLE_FIELDS:
        value = m.item(ItemKind.FIELD, name, b.fields[name], t.fields[name], y.fields[name], shown=lambda v: v)
        if value is not _ABSENT:
            fields[name] = value

    references: dict[str, Any] = {}
    for rid in dict.fromkeys([*b.ref_order, *t.ref_order, *y.ref_order]):
        value = m.item(ItemKind.REFERENCE, rid, _get(b.references, rid), _get(t.references, rid),
                       _get(y.references, rid))
        if value is not _ABSENT:
            references[rid] = value
    ref_order = m.order("references", b.ref_order, t.ref_order, y.ref_order,
                        [r for r in [*t.ref_order, *y.ref_order, *b.ref_order] if r in references])

    # Sections: a heading (content) and a parent (place); existence follows the heading's rule.
    headings: dict[str, str] = {}
    parents: dict[str, str] = {}
    section_ids = list(dict.fromkeys([*b.section_parent, *t.section_parent, *y.section_parent]))
    for sid in section_ids:
        heading = m.item(ItemKind.SECTION, sid, _get(b.headings, sid), _get(t.headings, sid), _get(y.headings, sid),
                         shown=lambda v: {"heading": v})
        if heading is _ABSENT:
            m.deleted_and_moved(ItemKind.SECTION, sid, b.section_parent, t.section_parent, y.section_parent,
                                _moved_in(b.section_children, t.section_children),
                                _moved_in(b.section_children, y.section_children))
            continue
        parent = m.item(ItemKind.SECTION, sid, _get(b.section_parent, sid), _get(t.section_parent, sid),
                        _get(y.section_parent, sid), aspect="place", shown=lambda v: {"parent": v})
        headings[sid] = heading
        parents[sid] = parent if parent is not _ABSENT else _LEAD

    claims: dict[str, Any] = {}
    places: dict[str, tuple[str, bool]] = {}
    claim_ids = list(dict.fromkeys([*b.claims, *t.claims, *y.claims]))
    containers = {cid: place[0] for cid, place in b.claim_place.items()}
    moved_t, moved_y = _moved_in(b.claim_order, t.claim_order), _moved_in(b.claim_order, y.claim_order)
    for cid in claim_ids:
        content = m.item(ItemKind.CLAIM, cid, _get(b.claims, cid), _get(t.claims, cid), _get(y.claims, cid))
        if content is _ABSENT:
            m.deleted_and_moved(ItemKind.CLAIM, cid, containers, {c: p[0] for c, p in t.claim_place.items()},
                                {c: p[0] for c, p in y.claim_place.items()}, moved_t, moved_y)
            continue
        place = m.item(ItemKind.CLAIM, cid, _get(b.claim_place, cid), _get(t.claim_place, cid),
                       _get(y.claim_place, cid), aspect="place",
                       shown=lambda v: {"section": None if v[0] == _LEAD else v[0], "starts_paragraph": v[1]})
        claims[cid] = content
        places[cid] = place if place is not _ABSENT else (_LEAD, False)

    # A place in a section that the merge drops would orphan the claim or section: a conflict on it.
    for cid, (container, _) in places.items():
        if container != _LEAD and container not in headings:
            m.conflicts.append(ConflictItem(
                kind=ItemKind.SECTION, id=container, message=f"claim {cid} is in section {container}, "
                "which the other edit deleted", base=_section_json(b, container), theirs=_section_json(t, container),
                yours=_section_json(y, container),
            ))
    for sid, parent in parents.items():
        if parent != _LEAD and parent not in headings:
            m.conflicts.append(ConflictItem(
                kind=ItemKind.SECTION, id=parent, message=f"section {sid} is under section {parent}, "
                "which the other edit deleted", base=_section_json(b, parent), theirs=_section_json(t, parent),
                yours=_section_json(y, parent),
            ))
    for cid, content in claims.items():
        for citation in content.get("citations", []):
            ref = citation.get("ref")
            if ref not in references:
                m.conflicts.append(ConflictItem(
                    kind=ItemKind.REFERENCE, id=str(ref), message=f"claim {cid} cites reference {ref}, "
                    "which the other edit deleted", base=_json(b.references.get(ref)),
                    theirs=_json(t.references.get(ref)), yours=_json(y.references.get(ref)),
                ))
    if m.conflicts:
        return MergeFailed(slug=base.slug, conflicts=_unique(m.conflicts))

    # Orders: sections under each parent, claims in each container.
    children: dict[str, list[str]] = {}
    for parent in dict.fromkeys([_LEAD, *parents.values()]):
        keep = [s for s in section_ids if parents.get(s) == parent]
        children[parent] = m.order(f"sections of {parent}", b.section_children.get(parent, []),
                                   t.section_children.get(parent, []), y.section_children.get(parent, []), keep)
    order: dict[str, list[str]] = {}
    for container in dict.fromkeys([_LEAD, *headings]):
        keep = [c for c in claim_ids if c in places and places[c][0] == container]
        order[container] = m.order(f"claims of {container}", b.claim_order.get(container, []),
                                   t.claim_order.get(container, []), y.claim_order.get(container, []), keep)
    if (b.empty_paragraphs or t.empty_paragraphs or y.empty_paragraphs) and not m.conflicts:
        # Empty paragraphs have no id to merge by: take the structure whole from the side that changed it.
        structure = [_structure(x) for x in (base, theirs, yours)]
        if structure[1] != structure[0] and structure[2] != structure[0] and structure[1] != structure[2]:
            m.conflicts.append(ConflictItem(
                kind=ItemKind.ORDER, id="paragraphs", aspect="paragraphs",
                message="both edits changed the paragraphs of an article with an empty paragraph",
            ))
    if m.conflicts:
        return MergeFailed(slug=base.slug, conflicts=_unique(m.conflicts))

    def paragraphs(container: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for cid in order[container]:
            if not out or places[cid][1]:
                out.append({"claims": []})
            out[-1]["claims"].append(claims[cid])
        return out

    def sections(parent: str) -> list[dict[str, Any]]:
        return [{"id": sid, "heading": headings[sid], "paragraphs": paragraphs(sid), "sections": sections(sid)}
                for sid in children.get(parent, [])]

    data: dict[str, Any] = {"slug": base.slug, **fields, "lead": paragraphs(_LEAD), "sections": sections(_LEAD),
                            "references": [_json(references[r]) for r in ref_order]}
    if any(x.empty_paragraphs for x in (b, t, y)):
        chosen = yours if _structure(theirs) == _structure(base) else theirs
        data = _with_structure(data, chosen, claims, headings)
    try:
        article = Article.model_validate(data)
    except ValidationError as error:
        return MergeFailed(slug=base.slug, conflicts=[ConflictItem(
            kind=ItemKind.ARTICLE, id=base.slug, message=f"the merged article does not validate: {error}",
        )])
    return MergeResult(article=article, merged=m.merged)


def _unique(conflicts: list[ConflictItem]) -> list[ConflictItem]:
    seen: dict[tuple[str, str, str], ConflictItem] = {}
    for conflict in conflicts:
        seen.setdefault((conflict.kind, conflict.id, conflict.aspect), conflict)
    return list(seen.values())


def _section_json(pieces: _Pieces, sid: str) -> Any:
    if sid not in pieces.headings:
        return None
    return {"id": sid, "heading": pieces.headings[sid], "parent": pieces.section_parent[sid]}


def _structure(article: Article) -> Any:
    """The article's shape with ids only: paragraphs as lists of claim ids, sections as trees."""

    def paras(paragraphs: Iterable[Any]) -> list[list[str]]:
        return [[c.id for c in p.claims] for p in paragraphs]

    def secs(sections: Iterable[Any]) -> list[Any]:
        return [(s.id, paras(s.paragraphs), secs(s.sections)) for s in sections]

    return paras(article.lead), secs(article.sections)


def _with_structure(data: dict[str, Any], shape: Article, claims: dict[str, Any],
                    headings: dict[str, str]) -> dict[str, Any]:
    """``data`` with its lead and sections laid out as ``shape``'s, holding the merged claims and headings."""

    def paras(paragraphs: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"claims": [claims[c.id] for c in p.claims if c.id in claims]} for p in paragraphs]

    def secs(sections: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"id": s.id, "heading": headings[s.id], "paragraphs": paras(s.paragraphs), "sections": secs(s.sections)}
                for s in sections if s.id in headings]

    return {**data, "lead": paras(shape.lead), "sections": secs(shape.sections)}


# --- the merge on save --------------------------------------------------------------------


def save_merging(
    wiki: Wiki, article: Article, base: str, message: str, author: str | None = None,
) -> SaveOutcome:
    """Save ``article`` edited from ``base``; if another edit landed since, merge it claim by claim and save.

    Without a conflict this is ``wiki.save(article, message, author, base=base)``.
    When the article changed since ``base``, the latest revision (theirs) and
    ``article`` (yours) are merged over ``base`` (:func:`merge_articles`) and the
    result is saved with the latest revision as its base, so the store's own
    compare-and-swap still guards the write; a save that slips in meanwhile
    starts the merge again (at most :data:`MAX_MERGE_ATTEMPTS` times). Raises
    :class:`MergeConflict` (an :class:`EditConflict`) naming the items both
    edits changed, or :class:`EditConflict` when there is nothing to merge with
    (the article was deleted or renamed).
    """
    try:
        return SaveOutcome(wiki.save(article, message, author, base=base))
    except EditConflict as conflict:
        first = conflict
    base_commit = wiki.resolve_for(article.slug, base)
    base_article = wiki.load(article.slug, base_commit)
    for _ in range(MAX_MERGE_ATTEMPTS):
        latest = wiki.latest(article.slug)
        if latest is None:
            raise first
        theirs = wiki.load(article.slug, latest.id)
        result = merge_articles(base_article, theirs, article)
        if isinstance(result, MergeFailed):
            raise MergeConflict(article.slug, base_commit, latest.id, result)
        try:
            revision = wiki.save(result.article, message, author, base=latest.id)
        except EditConflict:
            continue
        return SaveOutcome(revision, result, latest.id)
    raise first
