"""``--workers 2`` beside a library writer: concurrent edits of one article, none lost, every answer accounted for."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from wikicore.merge import save_merging
from wikicore.store import Wiki

from .support.serve_helpers import serving
from .support.wiki_helpers import article, fsck_clean

pytest.importorskip("fastapi", reason="the serve extra is not installed")

CLIENTS = 4
EDITS = 5


def test_two_workers_and_a_library_writer_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "wiki"
    claims = [{"id": f"c{i}", "text": f"Claim {i}. "} for i in range(CLIENTS + 1)]
    with Wiki.init(root) as wiki:
        wiki.save(article("shared", claims=claims), "create")
    saved: list[str] = []
    answers: list[int] = []
    lock = threading.Lock()

    with serving(root, "--workers", "2", log_dir=tmp_path) as server:

        def client(index: int) -> None:
            with server.client(timeout=120) as http:
                for edit in range(EDITS):
                    got = http.get("/api/v1/articles/shared").json()
                    got["lead"][0]["claims"][index]["text"] = f"Client {index} edit {edit}. "
                    response = http.put("/api/v1/articles/shared", content=json.dumps(got), params={"merge": "true"},
                                        headers={"Content-Type": "application/json",
                                                 "If-Match": f'W/"{got["revision"]}"'})
                    with lock:
                        answers.append(response.status_code)
                        if response.status_code in (200, 201):
                            saved.append(response.json()["revision"])

        def library() -> None:
            with Wiki.open(root) as mine:
                for edit in range(EDITS):
                    latest = mine.latest("shared")
                    assert latest is not None
                    current = mine.load("shared", latest.id)
                    data = current.model_dump(mode="json")
                    data["lead"][0]["claims"][CLIENTS]["text"] = f"Library edit {edit}. "
                    outcome = save_merging(mine, type(current).model_validate(data), latest.id, "library")
                    with lock:
                        saved.append(outcome.revision.id)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        threads.append(threading.Thread(target=library))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert answers and set(answers) == {200}, answers  # disjoint claims: every stale edit merged
    with Wiki.open(root) as wiki:
        history = {rev.id for rev in wiki.history("shared")}
        assert set(saved) <= history  # every 2xx revision is in the history
        assert len(history) == 1 + CLIENTS * EDITS + EDITS  # one commit per edit: nothing overwritten, no extras
        final = [c.text for c in wiki.load("shared").claims()]
    assert final == [f"Client {i} edit {EDITS - 1}. " for i in range(CLIENTS)] + [f"Library edit {EDITS - 1}. "]
    fsck_clean(root)
