"""One id-minting helper, linear whatever the repetition, ids exactly as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikicore.models import Article, IdMinter, short_hash

from .support.minted_ids import GOLDEN, all_ids, digest, digests, local_inputs, real_inputs
from .support.npmdata import real_articles  # noqa: F401  (fixture)


def old_mint(taken: set[str], base: str) -> str:
    """The algorithm every minting site used before: probe from the start every time."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


# --- the ids of the golden inputs are those minted before the change -----------------------


def test_golden_inputs_keep_their_ids() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = digests(local_inputs())
    assert got == {name: golden[name] for name in got}
    assert len(got) >= 20  # every wikitext fixture, the seed text, the stored articles, the synthetic page


def test_real_articles_keep_their_ids(real_articles: dict[str, Any]) -> None:  # noqa: F811
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = digests(real_inputs(real_articles))
    assert got and got == {name: golden[name] for name in got}


def test_synthetic_page_really_repeats() -> None:
    """The synthetic golden page exercises suffixes, or it would pin nothing of interest."""
    ids = all_ids(local_inputs()["synthetic/repetitive"])
    assert len(ids) == len(set(ids))
    assert sum(1 for ident in ids if ident.rsplit("-", 1)[-1].isdigit() and ident.count("-") >= 2) > 100


# --- the new helper against the old algorithm ---------------------------------------------

# Few bases, some of which look like suffixed forms of others ("a-2"), so collisions abound.
_BASES = st.sampled_from(["a", "a-2", "a-3", "a-2-2", "b", "b-10", "r-x", "r-x-2", "s-1"])
_OPS = st.lists(st.tuples(st.booleans(), _BASES), max_size=200)


@settings(max_examples=300, deadline=None)
@given(reserved=st.lists(_BASES, max_size=10), ops=_OPS)
def test_minter_matches_the_old_algorithm(reserved: list[str], ops: list[tuple[bool, str]]) -> None:
    taken = set(reserved)
    minter = IdMinter(reserved)
    for is_reserve, base in ops:
        if is_reserve:  # an explicit id arriving between mints
            taken.add(base)
            minter.reserve(base)
        else:
            assert minter.mint(base) == old_mint(taken, base)
    assert all(ident in minter for ident in taken)


def _old_article_ids(data: dict[str, Any]) -> list[str]:
    """Ids the old (quadratic) minter made for a flat article (lead claims, sections, references)."""
    taken: set[str] = {s["id"] for s in data["sections"] if "id" in s}
    taken |= {c["id"] for p in data["lead"] for c in p["claims"] if "id" in c}
    taken |= {r["id"] for r in data["references"]}
    sections = [s.get("id") or old_mint(taken, f"s-{short_hash(s['heading'])}") for s in data["sections"]]
    claims = [c.get("id") or old_mint(taken, f"c-{short_hash(c['text'])}") for p in data["lead"] for c in p["claims"]]
    return sections + claims + [r["id"] for r in data["references"]]


_TEXTS = st.sampled_from(["Retrieved.", "Notes", "Same.", "x"])


@settings(max_examples=150, deadline=None)
@given(headings=st.lists(st.tuples(_TEXTS, st.booleans()), max_size=40),
       texts=st.lists(st.tuples(_TEXTS, st.booleans()), min_size=1, max_size=80))
def test_article_ids_match_the_old_algorithm(headings: list[tuple[str, bool]],
                                             texts: list[tuple[str, bool]]) -> None:
    """Random repetitive articles, some objects with explicit ids that look like minted ones."""
    def explicit(text: str, prefix: str, index: int) -> str:
        return f"{prefix}-{short_hash(text)}-{2 + index % 3}"

    data: dict[str, Any] = {
        "slug": "t", "title": "T", "references": [{"id": "r-1", "raw": "R"}],
        "sections": [{"heading": h, **({"id": explicit(h, "s", i)} if e else {})}
                     for i, (h, e) in enumerate(headings)],
        "lead": [{"claims": [{"text": t, **({"id": explicit(t, "c", i)} if e else {})}
                             for i, (t, e) in enumerate(texts)]}],
    }
    if len({s.get("id") for s in data["sections"] if "id" in s}) < sum(e for _, e in headings):
        return  # duplicate explicit ids are an invalid article, not a minting question
    if len({c.get("id") for c in data["lead"][0]["claims"] if "id" in c}) < sum(e for _, e in texts):
        return
    expected = _old_article_ids(data)
    assert all_ids(Article.model_validate(data)) == expected


# --- linear work ----------------------------------------------------------------------------


class _CountingSet(set[str]):
    probes = 0

    def __contains__(self, item: object) -> bool:
        _CountingSet.probes += 1
        return super().__contains__(item)


@pytest.mark.parametrize("count", [1_000, 4_000])
def test_minting_repeated_text_is_linear(count: int) -> None:
    """k mints of one base cost about k probes (the old loop cost k²/2: 8 million for 4,000)."""
    minter = IdMinter()
    minter._taken = _CountingSet()  # the probe counter stands in for a stopwatch
    _CountingSet.probes = 0
    ids = [minter.mint("c-same") for _ in range(count)]
    assert len(set(ids)) == count and ids[-1] == f"c-same-{count}"
    assert _CountingSet.probes <= 2 * count


def test_digest_is_order_sensitive() -> None:
    assert digest(["a", "b"]) != digest(["b", "a"])
