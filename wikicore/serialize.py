"""Deterministic, safe loading and dumping of articles as YAML or JSON.

Dumping: the same article always gives the same bytes. Keys follow the model's
field order, defaults are left out, a ``$schema`` line points editors at the
JSON Schema, multi-line text is written as literal blocks, and strings holding
characters YAML would fold away (NEL, U+2028, U+2029) are double-quoted with
escapes, so ``loads(dumps(a)) == a`` for every article.

Loading: our YAML loader is ``yaml.safe_load`` narrowed further. It refuses
anchors and aliases (alias bombs), duplicate keys (naming both lines), nesting
deeper than :data:`MAX_DEPTH` and files over :data:`MAX_BYTES`. It resolves only
``null``, ``true``/``false`` and decimal integers implicitly: YAML 1.1's ``no``,
``on`` and ``2016-09-29`` stay strings and never become booleans or dates behind
the user's back. Every error names the file, the line where known and the field.
"""

from __future__ import annotations

import json
import os
import re
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InvalidArticle, Problem
from .models import Article

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "SCHEMA_REF",
    "Format",
    "article_from_data",
    "dump_path",
    "dumps",
    "format_for_path",
    "load_path",
    "loads",
    "read_text",
    "to_data",
    "write_atomic",
]

Format = Literal["yaml", "json"]

#: Largest article file we read (bytes). The biggest real Wikipedia articles are ~1 MB of wikitext.
MAX_BYTES = 10 * 1024 * 1024
#: Deepest nesting of YAML/JSON collections we accept; real articles need about 12.
MAX_DEPTH = 64
#: Where an article file under ``articles/`` finds its schema.
SCHEMA_REF = "../schemas/article.schema.json"

# --- dumping -----------------------------------------------------------------

# YAML readers treat these as line breaks inside plain and block scalars, so a
# string holding one can only round-trip double-quoted (where they are escaped).
_FOLDED_BY_YAML = re.compile("[\x85\u2028\u2029\ufeff]")


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never emits anchors and picks round-trip-safe string styles."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style: str | None = None
    if _FOLDED_BY_YAML.search(data):
        style = '"'
    elif "\n" in data:
        style = "|"  # PyYAML falls back to quoting when a block cannot hold the text
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
_DUMPERS: list[type[Any]] = [_Dumper]

if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - PyYAML wheels ship libyaml

    class _FastDumper(yaml.CSafeDumper):
        """The same representer over libyaml's emitter: 5x faster, byte-identical output.

        libyaml escapes characters beyond the BMP (emoji become ``\\U0001F389``)
        where the Python emitter writes them as they are, so text holding any is
        dumped by the Python emitter, as is text ending in a blank line
        (see :func:`_emitters_differ`). A Hypothesis test
        holds :func:`dumps` to the Python emitter's bytes, so a machine without
        libyaml writes exactly the files a machine with it does.
        """

        def ignore_aliases(self, data: Any) -> bool:
            return True

    _FastDumper.add_representer(str, _represent_str)  # type: ignore[arg-type]
    _DUMPERS.insert(0, _FastDumper)


_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


def _emitters_differ(value: Any) -> bool:
    """True where libyaml and the Python emitter would write different bytes.

    Two cases, both found by the Hypothesis test that compares them: characters
    beyond the BMP (libyaml escapes them) and text ending in a blank line, which
    takes a ``|+`` block after which libyaml, not Python, ends the document with ``...``.
    """
    if isinstance(value, str):
        blank_end = value.endswith("\n") and (len(value) == 1 or value[-2] == "\n")
        return blank_end or _BEYOND_BMP.search(value) is not None
    if isinstance(value, dict):
        return any(_emitters_differ(v) for v in value.values())
    if isinstance(value, list):
        return any(_emitters_differ(v) for v in value)
    return False


def _dumper_for(data: Any) -> type[Any]:
    """libyaml's emitter where it writes the same bytes as the Python one, else the Python one."""
    return _DUMPERS[-1] if len(_DUMPERS) == 1 or _emitters_differ(data) else _DUMPERS[0]


def to_data(article: Article) -> dict[str, Any]:
    """The article as plain JSON-compatible data, in model order, defaults left out."""
    body = article.model_dump(mode="json", exclude_defaults=True)
    data: dict[str, Any] = {"$schema": SCHEMA_REF, "schema_version": article.schema_version}
    data.update((k, v) for k, v in body.items() if k != "schema_version")
    return data


def dumps(article: Article, format: Format = "yaml") -> str:
    """Serialise an article deterministically; the result ends with a newline."""
    data = to_data(article)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    text: str = yaml.dump(
        data,
        Dumper=_dumper_for(data),
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1_000_000,  # one claim per line: diffs stay readable and folding cannot bite
        indent=2,
    )
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through the one safe writer (:mod:`wikicore.output`): never half-written."""
    from .output import write_path

    write_path(path, text)


def dump_path(article: Article, path: Path, format: Format | None = None) -> None:
    """Write an article to ``path`` atomically, in the format its suffix names."""
    write_atomic(Path(path), dumps(article, format or format_for_path(path)))


# --- loading -----------------------------------------------------------------


class _StrictComposer(yaml.composer.Composer):
    """Composer that refuses aliases, anchors and nesting deeper than :data:`MAX_DEPTH`."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[attr-defined]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed (they allow alias bombs)", mark)
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, "anchors are not allowed", mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _StrictConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor that refuses duplicate keys, naming both lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain strings", key_node.start_mark
                ) from None
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    _StrictComposer,
    _StrictConstructor,
    yaml.resolver.Resolver,
):
    """The pure-Python strict loader, used where PyYAML was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _StrictComposer.__init__(self)
        _StrictConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_LOADERS: list[type[Any]] = [_Loader]

if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - PyYAML wheels ship libyaml
    from yaml._yaml import CParser

    class _FastLoader(_StrictComposer, CParser, _StrictConstructor, yaml.resolver.Resolver):
        """libyaml scans and parses (6x faster); our Python composer still sees every event.

        Our composer comes first in the method order, so CParser's own C composer,
        which would silently resolve aliases, is never used.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _StrictComposer.__init__(self)
            _StrictConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _LOADERS.insert(0, _FastLoader)


# Only the unsurprising implicit types: everything else stays a string.
for _loader in _LOADERS:
    _loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^[-+]?[0-9]+$", list("-+0123456789")),
):
    for _loader in _LOADERS:
        _loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)


def format_for_path(path: str | os.PathLike[str]) -> Format:
    """``json`` for ``*.json``, otherwise ``yaml``."""
    return "json" if str(path).lower().endswith(".json") else "yaml"


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """Read a UTF-8 file we are about to parse, refusing huge or undecodable input.

    The size is checked before reading, so a 50 MB file costs a ``stat``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidArticle([Problem(f"file is {size:,} bytes; the limit is {max_bytes:,}")], str(path))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidArticle([Problem("no such file")], str(path)) from None
    except IsADirectoryError:
        raise InvalidArticle([Problem("is a directory, not a file")], str(path)) from None
    except PermissionError:
        raise InvalidArticle([Problem("permission denied")], str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidArticle(
            [Problem(f"invalid UTF-8 at byte {exc.start} ({raw[exc.start:exc.start + 1]!r})", line=line)],
            str(path),
        ) from None


def load_path(path: str | os.PathLike[str], format: Format | None = None) -> Article:
    """Load an article from a YAML or JSON file; raise :class:`InvalidArticle` with located problems."""
    path = Path(path)
    return loads(read_text(path), format or format_for_path(path), source=str(path))


def loads(text: str, format: Format = "yaml", source: str | None = None) -> Article:
    """Parse and validate an article from text (see the module docstring for the rules)."""
    if len(text) > MAX_BYTES:
        raise InvalidArticle([Problem(f"input is over {MAX_BYTES:,} characters")], source)
    root: yaml.Node | None = None
    if format == "json":
        data = _parse_json(text, source)
    else:
        data, root = _parse_yaml(text, source)
    return article_from_data(data, source=source, root=root)


def article_from_data(data: Any, source: str | None = None, root: yaml.Node | None = None) -> Article:
    """Validate parsed data as an article, turning pydantic's errors into located problems."""
    if not isinstance(data, dict):
        raise InvalidArticle([Problem("an article must be a mapping of fields", line=1)], source)
    data = dict(data)
    schema = data.pop("$schema", None)
    if schema is not None and not isinstance(schema, str):
        raise InvalidArticle([Problem("must be a string", path="$schema")], source)
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        raise InvalidArticle(_problems(exc, root), source) from None


def _parse_yaml(text: str, source: str | None) -> tuple[Any, yaml.Node | None]:
    loader = _LOADERS[0](text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m)
        if "maximum nesting depth" in message:  # libyaml's own limit (1000) can come first
            message = f"nesting deeper than {MAX_DEPTH} levels"
        if exc.problem and "could not determine a constructor" in exc.problem:
            message = f"tag {exc.problem.split('tag ')[-1]} is not allowed (only plain YAML is)"
        raise InvalidArticle([Problem(message, line=mark.line + 1 if mark else None)], source) from None
    except yaml.YAMLError as exc:
        raise InvalidArticle([Problem(f"not valid YAML: {exc}")], source) from None
    except RecursionError:
        raise InvalidArticle([Problem(f"nesting deeper than {MAX_DEPTH} levels")], source) from None
    finally:
        loader.dispose()
    return data, root


def _parse_json(text: str, source: str | None) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    depth = _json_depth(text)
    if depth > MAX_DEPTH:
        raise InvalidArticle([Problem(f"nesting deeper than {MAX_DEPTH} levels")], source)
    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InvalidArticle([Problem(f"not valid JSON: {exc.msg}", line=exc.lineno)], source) from None
    except ValueError as exc:
        raise InvalidArticle([Problem(str(exc))], source) from None


def _json_depth(text: str) -> int:
    """Maximum bracket depth outside strings: cheap, and stops json's recursion early."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


# --- error locating ----------------------------------------------------------

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parse_path(path: str) -> tuple[str | int, ...]:
    return tuple(int(i) if i else name for name, i in _PATH_PART.findall(path))


def _render_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The line of the deepest node along ``loc`` in the composed YAML tree."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    node, line = value_node, key_node.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that holds the last element of ``loc`` (for did-you-mean hints)."""
    model: type[BaseModel] = Article
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = _find_model(field.annotation)
        if found is None:
            return None
        model = found
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _problems(exc: ValidationError, root: yaml.Node | None) -> list[Problem]:
    import difflib

    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            model = _model_at(loc)
            message = "unknown field"
            if model is not None and loc and isinstance(loc[-1], str):
                hint = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
                if hint:
                    message += f"; did you mean {hint[0]!r}?"
        elif error["type"] == "missing":
            message = "required field is missing"
        if not loc and error["type"] == "value_error":
            # Article-level integrity errors carry their own paths, one per line.
            for text in str(error["ctx"]["error"]).splitlines():
                path, sep, rest = text.partition(": ")
                sub = _parse_path(path) if sep and not path.startswith("duplicate") else ()
                if not sub:
                    path, rest = "", text
                problems.append(Problem(rest, path=path, line=_line_for(root, sub)))
            continue
        message = message.removeprefix("Value error, ")
        problems.append(Problem(message, path=_render_loc(loc), line=_line_for(root, loc)))
    return problems
