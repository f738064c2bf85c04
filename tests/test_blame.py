"""Claim blame over real history: introduced, last text change, each citation's revision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.errors import NotFound
from wikicore.models import Article
from wikicore.report.diff import render_blame_json, render_blame_text
from wikicore.store import Wiki

REFS = [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}]


def make(slug: str, claims: list[dict[str, Any]]) -> Article:
    return Article.model_validate({"slug": slug, "title": "T", "lead": [{"claims": claims}], "references": REFS})


def test_blame_follows_ids_across_edits_and_a_rename(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    r1 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}]},
                                {"id": "b", "text": "Beta. "}]), "one", author="Ann <ann@example.org>")
    r2 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}]},
                                {"id": "b", "text": "Beta, revised. "}]), "two", base=r1.id,
                   author="Bob <bob@example.org>")
    r3 = wiki.save(make("old", [{"id": "a", "text": "Alpha. ", "citations": [{"ref": "r1"}, {"ref": "r2"}]},
                                {"id": "b", "text": "Beta, revised. "},
                                {"id": "c", "text": "Gamma. "}]), "three", base=r2.id)
    r4 = wiki.rename("old", "new")

    blame = wiki.blame("new")
    assert blame.revision.id == r4.id and blame.slug == "new"
    claims = {c.id: c for c in blame.claims}
    assert list(claims) == ["a", "b", "c"]
    assert claims["a"].introduced.id == claims["a"].text_changed.id == r1.id
    assert [(c.ref, c.added.id) for c in claims["a"].citations] == [("r1", r1.id), ("r2", r3.id)]
    assert claims["b"].introduced.id == r1.id and claims["b"].text_changed.id == r2.id
    assert claims["b"].text_changed.author == "Bob"
    assert claims["c"].introduced.id == r3.id

    earlier = wiki.blame("new", rev=r2.id)
    assert earlier.revision.id == r2.id and [c.id for c in earlier.claims] == ["a", "b"]
    wiki.close()


def test_a_claim_that_comes_back_counts_as_reintroduced(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    r1 = wiki.save(make("x", [{"id": "a", "text": "A. "}, {"id": "b", "text": "B. "}]), "one")
    r2 = wiki.save(make("x", [{"id": "a", "text": "A. "}]), "drop b", base=r1.id)
    r3 = wiki.save(make("x", [{"id": "a", "text": "A. "}, {"id": "b", "text": "B. "}]), "restore b", base=r2.id)
    claims = {c.id: c for c in wiki.blame("x").claims}
    assert claims["a"].introduced.id == r1.id and claims["b"].introduced.id == r3.id
    with pytest.raises(NotFound):
        wiki.blame("missing")
    wiki.close()


def test_blame_renderings(tmp_path: Path) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    rev = wiki.save(make("x", [{"id": "a", "text": "A. ", "citations": [{"ref": "r2"}]}]), "first line\n\nbody")
    blame = wiki.blame("x")
    text = render_blame_text(blame)
    assert f"introduced   {rev.short}" in text and "first line" in text and "cites r2" in text
    assert "\x1b" not in text
    data = json.loads(render_blame_json(blame))
    assert data["claims"][0]["introduced"]["id"] == rev.id
    assert data["claims"][0]["citations"][0]["added"]["id"] == rev.id
    wiki.close()


# --- the fingerprint cache (repeated blame in 0.5 s) and empty commit messages ------------------


def _history(tmp_path: Path, n: int = 6) -> tuple[Wiki, list[Any]]:
    wiki = Wiki.init(tmp_path / "wiki")
    revs: list[Any] = []
    for i in range(n):
        claims = [{"id": f"c{j}", "text": f"Claim {j} as of {min(i, j)}. ", "citations": [{"ref": "r1"}]}
                  for j in range(i + 1)]
        revs.append(wiki.save(make("x", claims), f"rev {i}", base=revs[-1].id if revs else None))
    return wiki, revs


def _counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import wikicore.store.validate as store  # where the store parses articles

    calls: list[str] = []
    real = store.loads

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(kwargs.get("source")))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(store, "loads", counting)
    return calls


def test_repeated_blame_parses_only_the_blamed_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wiki, revs = _history(tmp_path)
    calls = _counting_loads(monkeypatch)
    cold = wiki.blame("x")
    assert len(calls) == len(revs)
    assert (wiki.cache_path / "claims.sqlite").is_file()
    calls.clear()
    warm = wiki.blame("x")
    assert warm == cold and len(calls) == 1
    calls.clear()
    older = wiki.blame("x", rev=revs[2].id)  # blaming an older revision reuses the same fingerprints
    assert len(calls) == 1 and [c.id for c in older.claims] == ["c0", "c1", "c2"]
    assert {c.id: c.text_changed.id for c in cold.claims}["c3"] == revs[3].id
    wiki.close()


def test_a_reverted_blob_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wiki = Wiki.init(tmp_path / "wiki")
    one, two = make("x", [{"id": "a", "text": "A. "}]), make("x", [{"id": "a", "text": "A, changed. "}])
    r = wiki.save(one, "1")
    r = wiki.save(two, "2", base=r.id)
    r = wiki.save(one, "3", base=r.id)
    r = wiki.save(two, "4", base=r.id)
    calls = _counting_loads(monkeypatch)
    blame = wiki.blame("x")
    assert len(calls) == 2 and blame.claims[0].text_changed.id == r.id
    wiki.close()


@pytest.mark.parametrize("damage", ["garbage-file", "bad-rows", "bad-results", "cache-is-a-file", "old-version"])
def test_a_damaged_cache_is_bypassed_not_fatal(tmp_path: Path, damage: str) -> None:
    import sqlite3

    wiki, _ = _history(tmp_path, 4)
    expected = wiki.blame("x")
    db_path = wiki.cache_path / "claims.sqlite"
    if damage == "garbage-file":
        db_path.write_bytes(b"this is not a database" * 100)
    elif damage == "bad-rows":
        with sqlite3.connect(db_path) as db:
            rows = [r[0] for r in db.execute("SELECT blob FROM claim_prints")]
            db.execute("UPDATE claim_prints SET prints = ? WHERE blob = ?", ("[[1, 2, 3]]", rows[0]))
            db.execute("UPDATE claim_prints SET prints = ? WHERE blob = ?", ('{"a": 1}', rows[3]))
            db.execute("UPDATE claim_prints SET prints = ? WHERE blob = ?", ("not json", rows[1]))
            db.execute("UPDATE claim_prints SET prints = ? WHERE blob = ?", ('[["c0", "d", [["r1", 5]]]]', rows[2]))
            db.execute("DELETE FROM blame_results")  # make blame fold the fingerprints again
        db.close()
    elif damage == "bad-results":
        with sqlite3.connect(db_path) as db:
            db.execute("UPDATE blame_results SET positions = ?", ('[["c0", 99, 0, []]]',))
        db.close()
    elif damage == "cache-is-a-file":
        db_path.unlink()
        wiki.cache_path.rmdir()
        wiki.cache_path.write_text("not a directory")
    else:
        with sqlite3.connect(db_path) as db:
            db.execute("UPDATE claim_prints SET prints = '[]'")
            db.execute("PRAGMA user_version = 99")
        db.close()
    # The same answer; rows that fail their seal are now also said in its notes (the rest need none).
    first = wiki.blame("x")
    assert first.model_copy(update={"notes": []}) == expected
    assert len(first.notes) == (1 if damage in ("bad-rows", "bad-results") else 0), first.notes
    assert wiki.blame("x") == expected
    wiki.close()


def test_blame_of_a_commit_with_an_empty_message(tmp_path: Path, runner: Any) -> None:
    """A commit made by plain git with an empty message must not crash blame (git allows it)."""
    import os
    import subprocess

    from wikicore.cli import main
    from wikicore.serialize import dumps

    wiki = Wiki.init(tmp_path / "wiki")
    first = wiki.save(make("x", [{"id": "a", "text": "A. "}]), "first")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="Plain", GIT_AUTHOR_EMAIL="p@example.org", GIT_COMMITTER_NAME="Plain",
               GIT_COMMITTER_EMAIL="p@example.org")

    def git(*args: str, data: bytes | None = None) -> str:
        return subprocess.run(["git", "-C", str(wiki.path), *args], input=data, capture_output=True, env=env,
                              check=True).stdout.decode().strip()

    blob = git("hash-object", "-w", "--stdin", data=dumps(make("x", [{"id": "a", "text": "A. "},
                                                                      {"id": "b", "text": "B. "}])).encode())
    articles = git("mktree", data=f"100644 blob {blob}\tx.yaml\n".encode())
    root = git("mktree", data=f"040000 tree {articles}\tarticles\n".encode())
    commit = git("commit-tree", root, "-p", first.id, "--no-gpg-sign", data=b"")
    git("update-ref", "refs/heads/main", commit, first.id)
    blame = wiki.blame("x")
    assert {c.id: c.introduced.message for c in blame.claims} == {"a": "first", "b": ""}
    wiki.close()
    for fmt in ("text", "json"):
        result = runner.invoke(main, ["--wiki", str(tmp_path / "wiki"), "blame", "x", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert commit[:12] in result.stdout


def _reference_blame(versions: list[tuple[Any, Article]]) -> dict[str, Any]:
    """The original, obviously-correct fold (every claim of every revision), to hold the fast one to."""
    introduced: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    texts: dict[str, str] = {}
    cited: dict[tuple[str, str, str | None], Any] = {}
    for revision, art in versions:
        present: set[str] = set()
        present_citations: set[tuple[str, str, str | None]] = set()
        for claim in art.claims():
            present.add(claim.id)
            if claim.id not in introduced:
                introduced[claim.id] = changed[claim.id] = revision
            elif texts[claim.id] != claim.text:
                changed[claim.id] = revision
            texts[claim.id] = claim.text
            for citation in claim.citations:
                key = (claim.id, citation.ref, citation.locator)
                present_citations.add(key)
                cited.setdefault(key, revision)
        for gone in set(introduced) - present:
            del introduced[gone], changed[gone], texts[gone]
        for gone_key in set(cited) - present_citations:
            del cited[gone_key]
    last = versions[-1][1]
    return {c.id: (introduced[c.id].id, changed[c.id].id, [(x.ref, x.locator, cited[(c.id, x.ref, x.locator)].id)
                                                         for x in c.citations]) for c in last.claims()}


def test_blame_agrees_with_the_reference_fold_on_random_histories(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    wiki = Wiki.init(tmp_path / "wiki")
    versions: list[tuple[Any, Article]] = []
    claims: dict[str, dict[str, Any]] = {}
    base = None
    for step in range(40):
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            cid = f"c{rng.randrange(8)}"
            if action < 0.4:
                claims[cid] = {"id": cid, "text": f"Text {rng.randrange(4)}. "}
            elif action < 0.6:
                claims.pop(cid, None)
            elif cid in claims:
                claims[cid]["citations"] = [{"ref": rng.choice(["r1", "r2"]), "locator": rng.choice([None, "p. 1"])}
                                            for _ in range(rng.randrange(3))]
        art = make("x", [dict(c) for c in claims.values()] or [{"id": "c0", "text": "Empty. "}])
        rev = wiki.save(art, f"step {step}", base=base)
        if rev.id != base:
            versions.append((rev, art))
        base = rev.id
    expected = _reference_blame(versions)
    for _ in range(2):  # cold, then from the cache
        blame = wiki.blame("x")
        got = {c.id: (c.introduced.id, c.text_changed.id, [(x.ref, x.locator, x.added.id) for x in c.citations])
               for c in blame.claims}
        assert got == expected
    from wikicore.blame import compute_blame

    assert compute_blame("x", versions) == wiki.blame("x")  # the public fold over parsed articles agrees
    wiki.close()


# --- the cache accelerates, git decides: forged rows never change an answer ---------------------


def _bob_then_carol(tmp_path: Path) -> tuple[Wiki, Any, Any]:
    """Bob writes claim a; Carol adds claim b and leaves a alone."""
    wiki = Wiki.init(tmp_path / "wiki")
    bob = wiki.save(make("x", [{"id": "a", "text": "Bob's claim. "}]), "Bob", author="Bob <bob@example.org>")
    carol = wiki.save(make("x", [{"id": "a", "text": "Bob's claim. "}, {"id": "b", "text": "Carol's. "}]), "Carol",
                      author="Carol <carol@example.org>", base=bob.id)
    return wiki, bob, carol


def _forge(wiki: Wiki, sql: str, *params: Any) -> None:
    import sqlite3

    with sqlite3.connect(wiki.cache_path / "claims.sqlite") as db:
        db.execute(sql, params)
    db.close()


def _same_answer_noted(answer: Any, truth: Any, wiki: Wiki) -> None:
    """The forged cache changed nothing of the answer, and the answer says the cache was emptied (once)."""
    assert answer.model_copy(update={"notes": []}) == truth
    assert len(answer.notes) == 1 and str(wiki.cache_path / "claims.sqlite") in answer.notes[0]
    assert "failed their seal" in answer.notes[0]


def test_a_forged_fingerprint_does_not_move_a_claim_from_bob_to_carol(tmp_path: Path) -> None:
    import sqlite3

    wiki, _, _ = _bob_then_carol(tmp_path)
    truth = wiki.blame("x")
    assert truth.claims[0].text_changed.author == "Bob"
    with sqlite3.connect(wiki.cache_path / "claims.sqlite") as db:
        rows = {blob: json.loads(prints) for blob, prints in db.execute("SELECT blob, prints FROM claim_prints")}
    db.close()
    bobs = next(blob for blob, prints in rows.items() if len(prints) == 1)
    forged = [["a", "0000000000000000", cites] for _, _, cites in rows[bobs]]
    _forge(wiki, "UPDATE claim_prints SET prints = ? WHERE blob = ?", json.dumps(forged), bobs)
    _forge(wiki, "DELETE FROM blame_results")  # make blame fold the fingerprints again
    # Was `== truth`; the answer now also says the forged cache was emptied (Blame.notes).
    _same_answer_noted(wiki.blame("x"), truth, wiki)
    assert wiki.blame("x") == truth  # rebuilt: nothing more to say
    wiki.close()


def test_the_cli_says_a_forged_cache_was_emptied(tmp_path: Path) -> None:
    wiki, _, _ = _bob_then_carol(tmp_path)
    wiki.blame("x")
    _forge(wiki, "UPDATE blame_results SET positions = ?", '[["a", 1, 1, []], ["b", 1, 1, []]]')
    wiki.close()
    result = CliRunner().invoke(main, ["--wiki", str(wiki.path), "blame", "x", "--format", "json"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "claims.sqlite" in notes[0] and "failed their seal" in notes[0], result.stderr
    assert json.loads(result.stdout)["notes"] == [notes[0].removeprefix("note: ")]
    again = CliRunner().invoke(main, ["--wiki", str(wiki.path), "blame", "x", "--format", "json"])
    assert "note: " not in again.stderr and json.loads(again.stdout)["notes"] == []


@pytest.mark.parametrize(
    "positions",
    ['[["a", -1, -1, []], ["b", 1, 1, []]]', '[["a", true, true, []], ["b", 1, 1, []]]',
     '[["a", 1, 1, []], ["b", 1, 1, []]]', '[["a", 0, 0, []], ["b", 0, 1, []]]'],
    ids=["negative", "boolean", "in-range-forged", "changed-before-introduced"],
)
def test_a_forged_stored_blame_does_not_change_the_answer(tmp_path: Path, positions: str) -> None:
    wiki, _, _ = _bob_then_carol(tmp_path)
    truth = wiki.blame("x")
    _forge(wiki, "UPDATE blame_results SET positions = ?", positions)
    _same_answer_noted(wiki.blame("x"), truth, wiki)  # was `== truth`: the answer now says so
    assert wiki.blame("x") == truth
    wiki.close()


def test_a_fingerprint_filed_under_another_blob_is_not_used(tmp_path: Path) -> None:
    """A row moved to another blob's id (a well-formed print, the wrong owner) is caught too."""
    import sqlite3

    wiki, _, _ = _bob_then_carol(tmp_path)
    truth = wiki.blame("x")
    with sqlite3.connect(wiki.cache_path / "claims.sqlite") as db:
        (first, _), (_, b) = sorted(db.execute("SELECT blob, prints FROM claim_prints"), key=lambda r: len(r[1]))
        db.execute("UPDATE claim_prints SET prints = ? WHERE blob = ?", (b, first))
        db.execute("DELETE FROM blame_results")
    db.close()
    _same_answer_noted(wiki.blame("x"), truth, wiki)  # was `== truth`: the answer now says so
    wiki.close()


def test_a_sealing_key_others_can_read_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    wiki, _, _ = _bob_then_carol(tmp_path)
    truth = wiki.blame("x")
    key = tmp_path / "state" / "wikicore" / "cache.key"
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
    os.chmod(key, 0o644)
    _forge(wiki, "DELETE FROM blame_results")
    _forge(wiki, "UPDATE claim_prints SET prints = '[]'")  # even a row sealed by it would not be read
    assert wiki.blame("x") == truth
    wiki.close()
