"""The ids wikicore mints for the golden inputs, as digests.

Id minting was made linear in the number of repeated ids (it probed ``-2``, ``-3``, ...
from the start every time, quadratic on list articles); the ids themselves must not
change, or stored articles would change on re-import. ``tests/data/minted_ids.json`` holds, for
every golden input, a digest of the ids the importers and the model minted
*before* that change (written once by running this module on the old code:
``python -m tests.support.minted_ids``); ``tests/test_id_minting.py`` recomputes them.

Inputs: the wikitext fixtures, the seed text file, the stored articles with
their section and claim ids removed (so the model mints them again; reference
ids stay because citations name them), and the npm real articles when present.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from wikicore.importers import import_path
from wikicore.mediawiki.importer import import_wikitext
from wikicore.models import Article

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
GOLDEN = DATA / "minted_ids.json"


def all_ids(article: Article) -> list[str]:
    """Every id of the article in a fixed order: sections, claims, references."""
    return ([s.id for _, s in article.iter_sections()] + [c.id for c in article.claims()]
            + [r.id for r in article.references])


def digest(ids: list[str]) -> str:
    """A short digest of the id list (the ids, their order and their count)."""
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:32]


def _strip(data: Any) -> Any:
    """Drop the ``id`` of every section and claim (recursively), keeping reference ids."""
    for section in data.get("sections") or []:
        section.pop("id", None)
        _strip(section)
    for para in (data.get("lead") or []) + (data.get("paragraphs") or []):
        for claim in para.get("claims") or []:
            claim.pop("id", None)
    return data


def repetitive_wikitext(sections: int) -> str:
    """Wikitext whose sections, sentences and references repeat (the worst case for minting ids).

    Headings repeat ("Notes"), sentences repeat ("Retrieved."), unnamed references
    with the same text repeat, and named references collide with suffixed ids
    (``name="a"`` and ``name="a-2"`` give ``r-a`` and ``r-a-2``), so every
    branch of the suffix search is exercised.
    """
    parts = ["Lead sentence.<ref>Same source.</ref> Retrieved. Retrieved.\n"]
    for index in range(sections):
        heading = "Notes" if index % 3 else f"Part {index % 5}"
        parts.append(f"\n== {heading} ==\nRetrieved.<ref>Same source.</ref> Retrieved. "
                     f"Item {index % 4}.<ref name=\"a{'-2' if index % 7 == 0 else ''}\">A {index}.</ref> "
                     "Retrieved.<ref name=\"a\" />\n")
    return "".join(parts)


def local_inputs() -> dict[str, Article]:
    """The golden inputs that ship with the repository."""
    out: dict[str, Article] = {"synthetic/repetitive": import_wikitext(repetitive_wikitext(60), title="Rep")}
    for path in sorted((DATA / "wikitext").glob("*.wiki")):
        if path.stem != "redirect":
            out[f"wikitext/{path.stem}"] = import_path(path)
    for path in sorted(DATA.glob("*.txt")):
        out[f"text/{path.stem}"] = import_path(path)
    for path in sorted((ROOT / "articles").glob("*.yaml")):
        data = _strip(yaml.safe_load(path.read_text(encoding="utf-8")))
        data.pop("$schema", None)
        out[f"articles/{path.stem}"] = Article.model_validate(data)
    return out


def real_inputs(paths: dict[str, Path]) -> dict[str, Article]:
    """The npm real articles (Wikipedia text, never committed: only digests are)."""
    return {f"npm/{name}": import_wikitext(path.read_text(encoding="utf-8"), title=name.replace("_", " "))
            for name, path in sorted(paths.items()) if name != "redirect"}


def digests(articles: dict[str, Article]) -> dict[str, dict[str, Any]]:
    """Name -> {count, digest} of the minted ids."""
    return {name: {"count": len(all_ids(a)), "digest": digest(all_ids(a))} for name, a in articles.items()}


if __name__ == "__main__":  # pragma: no cover - run once on the code before minting was made linear
    from .npmdata import wtf_articles

    found = {**digests(local_inputs()), **digests(real_inputs(wtf_articles()))}
    GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(found)} digests to {GOLDEN}")
