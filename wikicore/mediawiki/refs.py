"""The references of one import: ``<ref>`` tags and ``{{sfn}}`` collected, then resolved and numbered.

A named ref may be defined after its first use (or inside an infobox, or in
``{{reflist|refs=}}``), and an ``{{sfn}}`` points at a full reference by
author and year: so citations are collected as :class:`Use` records while the
page is walked, and only :meth:`References.resolve` turns them into
reference records with ids, first cited first, once the whole page is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mwparserfromhell.nodes import Tag, Template
from mwparserfromhell.wikicode import Wikicode

from ..models import IdMinter, ReferenceType, short_hash
from .cs1 import RefContent, parse_ref_content, sfn_key
from .markup import plain

__all__ = ["References", "Use", "reference_id_for_name", "rp_values"]

#: A ref's key: (``name``, its name) for named refs, else (``anon`` | ``bib`` | ``sfn``, a counter or text).
Key = tuple[str, str]


def reference_id_for_name(name: str) -> str:
    """A stable reference id for a ref name: ``r-`` plus the name in ASCII, else a hash of it."""
    if re.fullmatch(r"r-[A-Za-z0-9][A-Za-z0-9._:-]{0,77}", name):
        return name  # an id the exporter used as a name: keep it, so export→import is stable
    ascii_name = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    if ascii_name and len(ascii_name) <= 60 and ascii_name.isascii():
        return f"r-{ascii_name}"
    return f"r-{short_hash(name)}"


def rp_values(template: Template) -> tuple[str | None, str | None]:
    """The locator and quote an ``{{rp}}`` gives its citation."""
    locator = None
    quote = None
    for param in template.params:
        name = str(param.name).strip().lower()
        value = str(param.value).strip()
        if (not param.showkey and name == "1") or name in {"page", "pages", "at", "p", "pp", "loc"}:
            locator = locator or (plain(value) or None)
        elif name in {"quote", "q"}:
            quote = plain(value) or None
    return locator, quote


@dataclass
class _RefState:
    """A reference being collected: its definition may come after its first use."""

    key: Key
    order: int
    name: str | None = None
    content: str | None = None
    dead_suffix: str = ""
    in_template: bool = False
    parsed: Wikicode | None = None


@dataclass
class Use:
    """One citation before references are resolved: which ref, and the ``{{rp}}`` after it."""

    key: Key
    rp: tuple[str | None, str | None] | None = None
    sfn: tuple[tuple[str, ...], str, str | None] | None = None


@dataclass
class References:
    """Every ref of one page, in the order first seen; ``warnings`` is the import's list."""

    warnings: list[str]
    refs: dict[Key, _RefState] = field(default_factory=dict)
    anonymous: int = 0
    ids: dict[Key, str] = field(default_factory=dict)

    def _state(self, key: Key, name: str | None = None) -> _RefState:
        state = self.refs.get(key)
        if state is None:
            state = self.refs[key] = _RefState(key=key, order=len(self.refs), name=name)
        return state

    def ref_tag(self, tag: Tag, in_template: bool = False) -> Key:
        """Register a ``<ref>`` tag and return the key of its reference."""
        name = group = None
        for attr in tag.attributes:
            attr_name = str(attr.name).strip().lower()
            if attr_name == "name":
                name = str(attr.value).strip()
            elif attr_name == "group":
                group = str(attr.value).strip()
        if group:
            self.warnings.append(f"ref group {group!r} is not kept (the model has no groups)")
        content = None if tag.self_closing or tag.contents is None else str(tag.contents)
        if content is not None and not content.strip():
            content = None
        if name:
            state = self._state(("name", name), name)
            if content is not None:
                if state.content is None:
                    state.content = content
                    state.parsed = tag.contents
                    state.in_template = in_template
                elif state.content.strip() != content.strip():
                    self.warnings.append(f"ref name {name!r} is defined twice with different content; "
                                         "the first definition is kept")
            return state.key
        self.anonymous += 1
        state = self._state(("anon", str(self.anonymous)))
        state.content = content if content is not None else ""
        state.parsed = tag.contents if content is not None else None
        state.in_template = in_template
        return state.key

    def scan(self, code: Wikicode) -> None:
        """Register the refs inside verbatim markup (infobox, table, ``{{reflist|refs=}}``): definitions only."""
        for tag in code.filter_tags(recursive=True):
            if str(tag.tag).strip().lower() == "ref":
                self.ref_tag(tag, in_template=True)

    def bibliography(self, template: Template) -> None:
        """A CS1 template standing alone (a "Sources" list): a reference ``{{sfn}}`` can point at."""
        self.anonymous += 1
        state = self._state(("bib", str(self.anonymous)))
        state.content = str(template)
        state.parsed = Wikicode([template])
        state.in_template = True

    def mark_dead(self, key: Key, markup: str) -> None:
        """A ``{{dead link}}`` right after the ref: kept in its ``raw`` (the model has no field for its date)."""
        state = self.refs[key]
        if not state.dead_suffix and "dead link" not in (state.content or "").lower():
            state.dead_suffix = markup

    @staticmethod
    def sfn_use(template: Template) -> Use:
        """The citation an ``{{sfn}}`` makes: author surnames and year, found in :meth:`resolve`."""
        positional = [str(p.value).strip() for p in template.params if not p.showkey]
        named = {str(p.name).strip().lower(): str(p.value).strip() for p in template.params if p.showkey}
        locator = next((named[k] for k in ("p", "pp", "loc", "page", "pages", "at") if named.get(k)), None)
        year = positional[-1] if positional else ""
        authors = tuple(a.casefold() for a in positional[:-1])
        use = Use(("sfn", str(template)))
        use.sfn = (authors, year[:4], plain(locator) if locator else None)
        return use

    def _find_sfn_targets(self, uses: list[Use], contents: dict[Key, RefContent]) -> None:
        """Point each ``{{sfn}}`` use at its full reference; one that names none is kept as written."""
        by_sfn: dict[tuple[tuple[str, ...], str], Key] = {}
        for key, content in contents.items():
            sk = sfn_key(content.fields.get("authors", []), content.fields.get("date"))
            if sk is not None:
                by_sfn.setdefault(sk, key)
        for use in uses:
            if use.sfn is None:
                continue
            authors, year, _ = use.sfn
            found = by_sfn.get((authors, year))
            if found is None:
                found = next((k for (names, y), k in by_sfn.items()
                              if y == year and names[:len(authors)] == authors), None)
            if found is not None:
                use.key = found
            else:
                self.warnings.append(f"{use.key[1]}: no full reference by {', '.join(authors)} {year}; "
                                     "kept as written")
                state = self._state(use.key)
                state.content = use.key[1]
                contents[use.key] = RefContent(fields={"type": ReferenceType.OTHER})

    def resolve(self, uses: list[Use]) -> tuple[list[dict[str, Any]], dict[Key, RefContent]]:
        """Resolve sfn uses, order references (first cited first) and mint their ids."""
        contents: dict[Key, RefContent] = {}
        for key, state in self.refs.items():
            if state.content is not None:
                parsed = None if state.dead_suffix else state.parsed
                contents[key] = parse_ref_content(state.content + state.dead_suffix, parsed)
        self._find_sfn_targets(uses, contents)
        first_use: dict[Key, int] = {}
        for index, use in enumerate(uses):
            first_use.setdefault(use.key, index)
        ordered = sorted(self.refs.values(), key=lambda s: (s.key not in first_use,
                                                            first_use.get(s.key, 0), s.order))
        minter = IdMinter()
        references: list[dict[str, Any]] = []
        self.ids = {}
        for state in ordered:
            raw = None if state.content is None else state.content + state.dead_suffix
            base = reference_id_for_name(state.name) if state.name else f"r-{short_hash(raw or '')}"
            ident = minter.mint(base)
            self.ids[state.key] = ident
            record: dict[str, Any] = {"id": ident}
            if state.name:
                record["name"] = state.name
            if state.content is None:
                self.warnings.append(f"ref name {state.name!r} is used but never defined")
                references.append(record)
                continue
            content = contents[state.key]
            for warning in content.warnings:
                self.warnings.append(f"reference {ident}: {warning}")
            record.update(content.fields)
            record["raw"] = raw
            references.append(record)
        return references, contents

    def citation(self, use: Use, contents: dict[Key, RefContent]) -> dict[str, Any]:
        """A resolved citation as model data: the reference's id, the locator and quote that apply."""
        content = contents.get(use.key)
        locator = content.locator if content else None
        quote = content.quote if content else None
        if use.sfn is not None and use.key[0] != "sfn":
            locator = use.sfn[2]
        if use.rp is not None:
            locator = use.rp[0]
            quote = use.rp[1] if use.rp[1] is not None else quote
        record: dict[str, Any] = {"ref": self.ids[use.key]}
        if locator:
            record["locator"] = locator
        if quote:
            record["quote"] = quote
        return record
