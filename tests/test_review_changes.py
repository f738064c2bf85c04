"""Recent changes' summaries, read from the blobs the log names, equal what the article API says of each change.

The oracle is the public API, change by change: ``Wiki.load`` of the revision and of its parent, the
static findings of each, and ``diff_articles`` between them (what ``Wiki.diff`` computes).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from wikicore import review
from wikicore.audit.static import run_static_checks
from wikicore.diff import diff_articles
from wikicore.store import LAYOUT_FLAT, LAYOUT_SHARDED, Wiki

from .support.wiki_helpers import article, with_claims
from .test_store_log import _busy_wiki


@pytest.mark.parametrize("layout", [LAYOUT_SHARDED, LAYOUT_FLAT], ids=["sharded", "flat"])
def test_each_summary_is_what_the_two_revisions_say(tmp_path: Path, layout: int) -> None:
    with _busy_wiki(tmp_path / "wiki", layout) as wiki:
        a = wiki.latest("alpha")
        assert a is not None
        # Claims lost and one added: alerts and problems to compare (creations add some too).
        wiki.save(article("alpha", claims=["Only this. "]), "alpha 3", base=a.id)
        if layout == LAYOUT_FLAT:
            wiki.migrate()
        with review._lock:
            review._summaries.clear()
        changes = review.recent_changes(wiki, 100)
        assert len(changes) == len(wiki.log(100)) > 8
        for change in changes:
            new = wiki.load(change.slug, change.revision)
            old = wiki.load(change.slug, change.parent) if change.parent else None
            diff = diff_articles(old, new, old_revision=change.parent, new_revision=change.revision)
            findings = {(f.code, f.claim_id, f.ref_id) for f in run_static_checks(new)}
            before = {(f.code, f.claim_id, f.ref_id) for f in run_static_checks(old)} if old else set()
            assert change.alerts == diff.alerts, change.message
            assert change.problems_introduced == len(findings - before), change.message
        assert any(change.alerts for change in changes) and any(change.problems_introduced for change in changes)


def test_an_unreadable_revision_has_an_empty_summary(tmp_path: Path) -> None:
    """A revision git holds but no article parses from: no alerts, no problems, as before."""
    with Wiki.init(tmp_path / "wiki") as wiki:
        first = wiki.save(article("alpha"), "alpha 1")
        wiki.save(with_claims(article("alpha"), "Second. "), "alpha 2", base=first.id)
        broken = "slug: [unclosed\n"
        script = (f"commit refs/heads/main\ncommitter Someone <someone@localhost> now\ndata 14\nbroken by hand\n"
                  f"from refs/heads/main^0\nM 100644 inline {wiki.log(1)[0].revision.path}\n"
                  f"data {len(broken)}\n{broken}\n")
        subprocess.run(["git", "fast-import", "--quiet", "--date-format=now"], cwd=wiki.path, input=script.encode(),
                       check=True)
        with review._lock:
            review._summaries.clear()
        change = review.recent_changes(wiki, 1)[0]
        assert change.message == "broken by hand" and change.alerts == [] and change.problems_introduced == 0
        assert change.parent is not None  # the old revision reads fine: only the new one is unreadable
