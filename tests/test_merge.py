"""The claim-level three-way merge: examples, then Hypothesis on generated concurrent edits.

The properties (wikicore/merge.py's docstring): a merge never loses an edit (an
item one side changed has that side's value), never invents one (an item neither
side changed is the base's), and two edits of disjoint items give exactly the
article both edits applied in turn give.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wikicore.errors import EditConflict
from wikicore.merge import ItemKind, MergeConflict, MergeFailed, MergeResult, merge_articles, save_merging
from wikicore.models import Article
from wikicore.store import Wiki

from .support.wiki_helpers import article

# --- examples ---------------------------------------------------------------------------


def _data(a: Article) -> dict[str, Any]:
    return a.model_dump(mode="json", exclude_defaults=True)


def _edit(a: Article, change: Callable[[dict[str, Any]], None]) -> Article:
    data = copy.deepcopy(_data(a))
    change(data)
    return Article.model_validate(data)


BASE = article(
    "merge-me", claims=["One. ", "Two. ", "Three. "],
    sections=[{"id": "history", "heading": "History", "paragraphs": [{"claims": [{"text": "Four. "}]}]}],
    refs=[{"id": "r1", "title": "A book"}, {"id": "r2", "title": "A paper"}],
)


def test_edits_of_different_claims_merge() -> None:
    theirs = _edit(BASE, lambda d: d["lead"][0]["claims"][0].update(text="One, edited. "))
    yours = _edit(BASE, lambda d: d["lead"][0]["claims"][2].update(text="Three, edited. "))
    result = merge_articles(BASE, theirs, yours)
    assert isinstance(result, MergeResult)
    assert [c.text for c in result.article.claims()] == ["One, edited. ", "Two. ", "Three, edited. ", "Four. "]
    assert {(m.id, m.side) for m in result.from_theirs} == {(BASE.claims()[0].id, "theirs")}


def test_the_same_claim_edited_twice_is_a_conflict_with_three_values() -> None:
    theirs = _edit(BASE, lambda d: d["lead"][0]["claims"][1].update(text="Two (theirs). "))
    yours = _edit(BASE, lambda d: d["lead"][0]["claims"][1].update(text="Two (yours). "))
    result = merge_articles(BASE, theirs, yours)
    assert isinstance(result, MergeFailed)
    [conflict] = result.conflicts
    assert conflict.kind == ItemKind.CLAIM and conflict.id == BASE.claims()[1].id
    assert (conflict.base["text"], conflict.theirs["text"], conflict.yours["text"]) == (
        "Two. ", "Two (theirs). ", "Two (yours). ")


def test_a_deleted_reference_still_cited_by_the_other_edit_is_a_conflict() -> None:
    def drop_r2(d: dict[str, Any]) -> None:
        d["references"] = [r for r in d["references"] if r["id"] != "r2"]

    yours = _edit(BASE, lambda d: d["lead"][0]["claims"][0].update(citations=[{"ref": "r2"}]))
    result = merge_articles(BASE, _edit(BASE, drop_r2), yours)
    assert isinstance(result, MergeFailed)
    assert [(c.kind, c.id) for c in result.conflicts] == [("reference", "r2")]
    assert result.conflicts[0].base == {"id": "r2", "title": "A paper"} and result.conflicts[0].theirs is None


def test_both_appending_claims_keeps_both_theirs_first() -> None:
    theirs = _edit(BASE, lambda d: d["lead"][0]["claims"].append({"id": "t1", "text": "Theirs. "}))
    yours = _edit(BASE, lambda d: d["lead"][0]["claims"].append({"id": "y1", "text": "Yours. "}))
    result = merge_articles(BASE, theirs, yours)
    assert isinstance(result, MergeResult)
    assert [c.id for c in result.article.lead[0].claims][-2:] == ["t1", "y1"]


def test_save_merging_merges_a_stale_edit_and_refuses_an_overlapping_one(tmp_path: Path) -> None:
    with Wiki.init(tmp_path / "wiki") as wiki:
        first = wiki.save(BASE, "create")
        wiki.save(_edit(BASE, lambda d: d["lead"][0]["claims"][0].update(text="One (A). ")), "A", base=first.id)
        mine = _edit(BASE, lambda d: d["lead"][0]["claims"][2].update(text="Three (B). "))
        outcome = save_merging(wiki, mine, first.id, "B")
        assert outcome.merge is not None and outcome.merged_with is not None
        texts = [c.text for c in wiki.load("merge-me").claims()]
        assert texts[:3] == ["One (A). ", "Two. ", "Three (B). "]
        clash = _edit(BASE, lambda d: d["lead"][0]["claims"][0].update(text="One (C). "))
        with pytest.raises(MergeConflict) as raised:
            save_merging(wiki, clash, first.id, "C")
        assert isinstance(raised.value, EditConflict)
        assert raised.value.failure.conflicts[0].id == BASE.claims()[0].id
        assert len(wiki.history("merge-me")) == 3
        # Up to date: a plain save, no merge.
        retitled = _edit(wiki.load("merge-me"), lambda d: d.update(title="T"))
        again = save_merging(wiki, retitled, outcome.revision.id, "D")
        assert again.merge is None


# --- generated concurrent edits ------------------------------------------------------------


@st.composite
def bases(draw: st.DrawFn) -> Article:
    counter = iter(range(10_000))

    def claims(n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            i = next(counter)
            cites = draw(st.lists(st.sampled_from(["r0", "r1", "r2"]), max_size=2, unique=True))
            out.append({"id": f"c{i}", "text": f"Claim {i}. ", "citations": [{"ref": r} for r in cites]})
        return out

    def paragraphs() -> list[dict[str, Any]]:
        return [{"claims": claims(draw(st.integers(1, 3)))} for _ in range(draw(st.integers(1, 2)))]

    sections = [{"id": f"s{k}", "heading": f"Heading {k}", "paragraphs": paragraphs()}
                for k in range(draw(st.integers(0, 2)))]
    return Article.model_validate({
        "slug": "gen", "title": "Generated", "lead": paragraphs(), "sections": sections,
        "references": [{"id": f"r{k}", "title": f"Source {k}"} for k in range(3)],
    })


Op = tuple[Any, ...]


def _flat(data: dict[str, Any]) -> list[tuple[list[dict[str, Any]], dict[str, Any], int]]:
    """(paragraph list, paragraph, index) of every claim in reading order."""
    out = []

    def paras(plist: list[dict[str, Any]]) -> None:
        for p in plist:
            out.extend((plist, p, i) for i in range(len(p["claims"])))

    paras(data.get("lead", []))
    for s in data.get("sections", []):
        paras(s.get("paragraphs", []))
    return out


def _claim_ids(a: Article) -> list[str]:
    return [c.id for c in a.claims()]


def touched(base: Article, op: Op) -> set[str]:
    """The items and gaps an edit touches: two edits with disjoint sets must merge to both applied."""
    ids = _claim_ids(base)

    def near(cid: str) -> set[str]:
        i = ids.index(cid)
        return {cid, *ids[max(i - 1, 0):i + 2]}

    kind = op[0]
    if kind in ("text", "cite"):
        return {op[1], *([f"ref:{op[2]}"] if kind == "cite" else [])}
    if kind in ("delete", "insert_after"):
        return near(op[1]) | {f"new:{op[-1]}"}
    if kind == "move":
        return near(op[1]) | near(op[2])
    if kind == "ref_title":
        return {f"ref:{op[1]}"}
    if kind == "add_ref":
        return {"refs-end"}
    if kind == "heading":
        return {f"sec:{op[1]}"}
    return {"title"}


def apply(data: dict[str, Any], op: Op) -> None:
    kind = op[0]
    if kind == "title":
        data["title"] = op[1]
    elif kind == "heading":
        next(s for s in data["sections"] if s["id"] == op[1])["heading"] = op[2]
    elif kind == "ref_title":
        next(r for r in data["references"] if r["id"] == op[1])["title"] = op[2]
    elif kind == "add_ref":
        data["references"].append({"id": op[1], "title": "Added"})
    else:
        plist, para, index = next(x for x in _flat(data) if x[1]["claims"][x[2]]["id"] == op[1])
        claim = para["claims"][index]
        if kind == "text":
            claim["text"] = op[2]
        elif kind == "cite":
            if all(c["ref"] != op[2] for c in claim.get("citations", [])):
                claim.setdefault("citations", []).append({"ref": op[2]})
        elif kind == "delete":
            del para["claims"][index]
            if not para["claims"]:
                plist.remove(para)
        elif kind == "insert_after":
            para["claims"].insert(index + 1, {"id": op[2], "text": f"New {op[2]}. "})
        elif kind == "move":
            moved = para["claims"].pop(index)
            if not para["claims"]:
                plist.remove(para)
            _, there, at = next(x for x in _flat(data) if x[1]["claims"][x[2]]["id"] == op[2])
            there["claims"].insert(at + 1, moved)


@st.composite
def edits(draw: st.DrawFn, base: Article, side: str) -> list[Op]:
    ids = _claim_ids(base)
    sections = [s.id for _, s in base.iter_sections()]
    ops: list[Op] = []
    used: set[str] = set()
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "delete", "insert_after", "ref_title", "add_ref", "heading", "title",
                                     "cite", "move"]))
        op: Op
        if kind == "text":
            op = ("text", draw(st.sampled_from(ids)), f"Edited by {side} {i}. ")
        elif kind == "delete":
            op = ("delete", draw(st.sampled_from(ids)))
        elif kind == "insert_after":
            op = ("insert_after", draw(st.sampled_from(ids)), f"{side}{i}")
        elif kind == "move" and len(ids) > 2:
            source, target = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
            op = ("move", source, target)
        elif kind == "cite":
            op = ("cite", draw(st.sampled_from(ids)), draw(st.sampled_from(["r0", "r1", "r2"])))
        elif kind == "ref_title":
            op = ("ref_title", draw(st.sampled_from(["r0", "r1", "r2"])), f"Retitled by {side}")
        elif kind == "add_ref":
            op = ("add_ref", f"r-{side}{i}")
        elif kind == "heading" and sections:
            op = ("heading", draw(st.sampled_from(sections)), f"Heading by {side}")
        else:
            op = ("title", f"Title by {side}")
        mark = touched(base, op)
        if mark & used:
            continue  # one side's own edits stay disjoint, so applying them in turn is well defined
        used |= mark
        ops.append(op)
    return ops


def _applied(base: Article, *sides: list[Op]) -> Article:
    data = copy.deepcopy(_data(base))
    for ops in sides:
        for op in ops:
            apply(data, op)
    return Article.model_validate(data)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Article, list[Op], list[Op]]:
    base = draw(bases())
    return base, draw(edits(base, "t")), draw(edits(base, "y"))


def _items(a: Article) -> dict[tuple[str, str], Any]:
    """Every content item of an article, keyed (kind, id): what "lost" and "invented" are judged on."""
    items: dict[tuple[str, str], Any] = {("field", "title"): a.title}
    items.update({("claim", c.id): (c.text, [x.ref for x in c.citations]) for c in a.claims()})
    items.update({("reference", r.id): r.title for r in a.references})
    items.update({("section", s.id): s.heading for _, s in a.iter_sections()})
    items.update({("place", c.id): s.id if s else None for s, c in a.claim_sections()})
    return items


@given(scenarios())
def test_disjoint_edits_merge_to_both_applied(scenario: tuple[Article, list[Op], list[Op]]) -> None:
    base, ours_t, ours_y = scenario
    t_marks = set().union(*(touched(base, op) for op in ours_t))
    y_marks = set().union(*(touched(base, op) for op in ours_y))
    assume(not t_marks & y_marks)
    result = merge_articles(base, _applied(base, ours_t), _applied(base, ours_y))
    assert isinstance(result, MergeResult), result
    assert _data(result.article) == _data(_applied(base, ours_t, ours_y))


@given(scenarios())
def test_a_merge_never_loses_or_invents_an_edit(scenario: tuple[Article, list[Op], list[Op]]) -> None:
    base, ours_t, ours_y = scenario
    theirs, yours = _applied(base, ours_t), _applied(base, ours_y)
    b, t, y = _items(base), _items(theirs), _items(yours)
    result = merge_articles(base, theirs, yours)
    if isinstance(result, MergeFailed):
        assert result.conflicts
        for conflict in result.conflicts:
            if conflict.aspect == "content" and conflict.kind in ("claim", "section", "field") and (
                    conflict.kind != "claim" or ("claim", conflict.id) in b.keys() | t.keys() | y.keys()):
                key = (str(conflict.kind), conflict.id)
                assert t.get(key) != b.get(key) and y.get(key) != b.get(key) and t.get(key) != y.get(key)
        return
    r = _items(result.article)
    for key in b.keys() | t.keys() | y.keys():
        if t.get(key) == b.get(key):
            assert r.get(key) == y.get(key), key  # yours kept (and nothing invented where both kept base)
        elif y.get(key) == b.get(key):
            assert r.get(key) == t.get(key), key  # theirs kept
        else:
            assert t.get(key) == y.get(key) == r.get(key), key  # a genuine both-changed must have conflicted
