"""The stored format's own YAML writer: PyYAML's bytes for the small part of YAML articles use."""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["write_yaml"]

# PyYAML spends ~1 ms on a small article (its representer, serializer and emitter walk every node
# through Python and Cython calls: 1.26M instructions, measured with callgrind), which capped bulk
# import near 1,000 articles a second. Stored articles use a small part of YAML: block mappings and
# sequences of strings, integers, booleans and nulls, strings on one line. For that part
# :func:`write_yaml` writes exactly the bytes PyYAML would, by the rules of PyYAML's emitter
# (``analyze_scalar`` and ``choose_scalar_style`` in yaml/emitter.py, which libyaml's
# ``yaml_emitter_analyze_scalar`` and ``yaml_emitter_select_scalar_style`` follow): a string is
# plain unless it is empty, starts or ends with a space, starts with an indicator or a document
# marker, holds ``": "``, ``" #"`` or ends with ``":"``, or would be read back as another type
# (YAML 1.1's implicit resolvers: ``yes``, ``1:20``, ``2001-12-14``...); otherwise single-quoted.
# Anything else (line breaks, characters PyYAML escapes, empty collections, floats, long keys)
# makes it decline, and PyYAML writes the article. Tests hold it to PyYAML's bytes on every golden
# file, on a table of style rules, and by Hypothesis.

# Characters both emitters write as they are in plain and single-quoted scalars with allow_unicode:
# printable ASCII and the BMP's printable non-ASCII, minus U+2028/U+2029 (line breaks to YAML) and
# U+FEFF. No line breaks, tabs or controls: those take double quotes or literal blocks.
_ONE_LINE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
# What keeps a one-line string from being plain in block context (analyze_scalar's block indicators,
# leading or trailing space, document markers).
_NOT_PLAIN = re.compile("^(?:[ #,\\[\\]{}&*!|>'\"%@`]|[?:\\-](?: |$)|---|\\.\\.\\.)|: |:$| #| $")
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = yaml.SafeDumper.yaml_implicit_resolvers
#: Longest string the writer takes: beyond a million columns PyYAML starts folding lines.
_WRITER_MAX = 100_000


def _scalar(value: Any) -> str | None:
    """``value`` as PyYAML writes it in block context (a key or a value), or None if the writer declines."""
    if isinstance(value, str):
        if len(value) > _WRITER_MAX or not _ONE_LINE.fullmatch(value):
            return None
        if not value:
            return "''"  # plain would read back as null
        if _NOT_PLAIN.search(value) or any(rx.match(value) for _, rx in _RESOLVERS.get(value[0], ())):
            return "'" + value.replace("'", "''") + "'"
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return None


def write_yaml(data: dict[str, Any]) -> str | None:
    """``data`` as ``yaml.dump(data, Dumper=_Dumper, ...)`` in :func:`dumps` writes it, or None outside its grammar."""
    out: list[str] = []
    if not data or not _mapping(data, "", "", out):
        return None
    return "".join(out)


def _mapping(data: dict[str, Any], first: str, indent: str, out: list[str]) -> bool:
    """Write a block mapping; its first key follows ``first`` (``"- "`` in a sequence), the rest ``indent``."""
    lead = first
    for key, value in data.items():
        # An empty or long key is no simple key to PyYAML (it writes `? key`): decline.
        name = _scalar(key) if isinstance(key, str) and 0 < len(key) < 100 else None
        if name is None:
            return False
        if isinstance(value, dict):
            if not value:
                return False
            out.append(f"{lead}{name}:\n")
            if not _mapping(value, indent + "  ", indent + "  ", out):
                return False
        elif isinstance(value, list):
            if not value:
                return False
            out.append(f"{lead}{name}:\n")
            if not _sequence(value, indent, out):  # indentless, as PyYAML writes a sequence in a mapping
                return False
        else:
            text = _scalar(value)
            if text is None:
                return False
            out.append(f"{lead}{name}: {text}\n")
        lead = indent
    return True


def _sequence(items: list[Any], indent: str, out: list[str]) -> bool:
    """Write a block sequence at ``indent``; a mapping item starts on the dash's line."""
    for item in items:
        if isinstance(item, dict):
            if not item or not _mapping(item, indent + "- ", indent + "  ", out):
                return False
        elif isinstance(item, list):
            return False
        else:
            text = _scalar(item)
            if text is None:
                return False
            out.append(f"{indent}- {text}\n")
    return True
