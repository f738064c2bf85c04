"""Deterministic, safe loading and dumping of articles as YAML or JSON.

Dumping: the same article always gives the same bytes. Keys follow the model's
field order, defaults are left out, a ``$schema`` line points editors at the
JSON Schema, multi-line text is written as literal blocks, and strings holding
characters YAML would fold away (NEL, U+2028, U+2029) are double-quoted with
escapes, so ``loads(dumps(a)) == a`` for every article.

Loading: our YAML loader builds plain data straight from libyaml's parser
events (:func:`_build`; about 10x faster than PyYAML's composer and constructor)
and accepts only plain YAML. It refuses anchors and aliases (alias bombs), every
explicit tag (``!!binary``, ``!!set``, ``!!python/...``), duplicate keys (naming
both lines), nesting deeper than :data:`MAX_DEPTH`, integers longer than
:data:`MAX_INT_DIGITS` and input over :data:`MAX_BYTES`. It resolves only
``null``, ``true``/``false`` and decimal integers implicitly: YAML 1.1's ``no``,
``on``, ``0123`` and ``2016-09-29`` stay strings and never become booleans,
octal numbers or dates behind the user's back. JSON is held to the same caps and
refuses ``NaN`` and ``Infinity``. Every error names the file, the line where
known and the field.
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import stat
import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from .errors import InvalidArticle, Problem
from .locate import validation_problems
from .models import Article
from .yamlwriter import write_yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "READ_IDLE_SECONDS",
    "SCHEMA_REF",
    "Format",
    "article_from_data",
    "dump_data",
    "dump_path",
    "dumps",
    "format_for_path",
    "load_path",
    "loads",
    "read_text",
    "record_revision",
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


def to_data(article: Article, revision: str | None = None) -> dict[str, Any]:
    """The article as plain JSON-compatible data, in model order, defaults left out.

    ``revision`` (the wiki revision a copy was read from) is written only when
    given: it is not content, so ``article.revision`` is never written by itself
    and a stored article never carries one.
    """
    body = article.model_dump(mode="json", exclude_defaults=True)
    data: dict[str, Any] = {"$schema": SCHEMA_REF, "schema_version": article.schema_version}
    if revision is not None:
        data["revision"] = revision
    data.update((k, v) for k, v in body.items() if k not in ("schema_version", "revision"))
    return data


def dumps(article: Article, format: Format = "yaml", *, revision: str | None = None) -> str:
    """Serialise an article deterministically; the result ends with a newline.

    ``revision``: record the wiki revision this copy shows (``wikicore show``
    does), as a top-level ``revision:`` key that loading puts back in
    :attr:`Article.revision`.
    """
    return dump_data(to_data(article, revision), format)


def dump_data(data: dict[str, Any], format: Format = "yaml") -> str:
    """:func:`dumps` of what :func:`to_data` made (the store checks the data, then writes it: one model dump)."""
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    written = write_yaml(data)
    if written is not None:
        return written
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


# A top-level `revision:` line (column 0, any value, a trailing comment kept), and where one goes when
# missing: after `schema_version:` as `show` writes it, else after leading comments and `$schema:`.
_YAML_REVISION = re.compile(r"^revision:[ \t]*(?P<value>[^ \t#\r\n][^#\r\n]*?)?(?=[ \t]*(?:#.*)?\r?$)", re.M)
_YAML_AFTER = re.compile(r"^schema_version:.*\n", re.M)
_YAML_HEAD = re.compile(r"\A(?:(?:[ \t]*(?:#.*)?|%.*|---[ \t]*|\$schema:.*)\n)*")
_JSON_REVISION = re.compile(r'(?<![\\])"revision"(?P<colon>[ \t\r\n]*:[ \t\r\n]*)(?P<value>"[^"\\]*"|null)')
_JSON_OPEN = re.compile(r"\A[ \t\r\n]*\{(?P<space>[ \t\r\n]*)")


def record_revision(text: str, revision: str, format: Format = "yaml") -> str | None:
    """``text`` (an article file) recording ``revision`` as its base, every other byte kept.

    ``wikicore save FILE`` moves FILE's base forward this way, as every editor
    that keeps a working copy does after a save, so the next save of the same
    file is no conflict with the last. The user's comments, key order, quoting
    and layout stay: rewriting the file from the model would lose them. Returns
    ``None`` where the file's layout leaves no single safe place to write
    (checked by loading the result: it must be the same article at ``revision``).
    """
    if format == "json":
        found = list(_JSON_REVISION.finditer(text))
        if len(found) == 1:
            match = found[0]
            new = f"{text[:match.start('value')]}\"{revision}\"{text[match.end('value'):]}"
        elif not found and (opening := _JSON_OPEN.match(text)):
            space = opening["space"] or " "
            new = f'{text[:opening.end()]}"revision": "{revision}",{space}{text[opening.end():]}'
        else:
            return None
    else:
        found = list(_YAML_REVISION.finditer(text))
        if len(found) == 1:
            match = found[0]
            if match["value"]:
                new = f"{text[:match.start('value')]}{revision}{text[match.end('value'):]}"
            else:  # `revision:` with no value (null), perhaps a comment after it
                at = match.end()
                space = "" if text[at - 1] != ":" else " "
                new = f"{text[:at]}{space}{revision}{' ' if text[at:at + 1] == '#' else ''}{text[at:]}"
        elif not found:
            after = _YAML_AFTER.search(text) or _YAML_HEAD.match(text)
            at = after.end() if after else 0
            new = f"{text[:at]}revision: {revision}\n{text[at:]}"
        else:
            return None
    try:
        before, after_ = loads(text, format), loads(new, format)
    except InvalidArticle:
        return None
    return new if after_.revision == revision and after_ == before else None


# --- loading -----------------------------------------------------------------


#: Longest run of digits read as an integer. Python refuses to convert longer ones
#: (``sys.get_int_max_str_digits``: a quadratic-time guard), and no article field needs them.
MAX_INT_DIGITS = 4300

# YAML 1.2 core-schema words; YAML 1.1's ``yes``/``no``/``on``/``off`` are not among them.
_WORDS: dict[str, Any] = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
}
_NUMBER_START = frozenset("-+0123456789")
# Decimal only, no leading zeros: ``0123`` (YAML 1.1 octal) and ``0x10`` stay strings.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class _Refused(Exception):
    """A strictness rule broken at a line of the input (becomes one located :class:`Problem`)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _line(event: Any) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _plain_value(value: str, event: Any) -> Any:
    """What an untagged plain scalar means: null, a boolean, a decimal integer, else the text."""
    if value in _WORDS:
        return _WORDS[value]
    if value[0] in _NUMBER_START and _INT.fullmatch(value):
        digits = len(value) - (value[0] in "+-")
        if digits > MAX_INT_DIGITS:
            raise _Refused(
                f"a number of {digits:,} digits is too long (the limit is {MAX_INT_DIGITS:,}; quote it)",
                _line(event),
            )
        return int(value)
    return value


_MAP, _SEQ = yaml.MappingStartEvent, yaml.SequenceStartEvent
_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAP_END, _SEQ_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_NO_KEY = object()


def _build(parser: Any) -> Any:
    """Plain data straight from parser events, refusing everything but plain YAML.

    This replaces PyYAML's composer + constructor (nodes, marks kept per node,
    generator-based construction), which was 90% of load time: one loop with an
    explicit stack, so nesting costs no recursion. Refused: aliases and anchors
    (alias bombs), every explicit tag (``!!binary``, ``!!set``, ``!!str``,
    ``!!python/...``, even ``!``), duplicate keys (naming both lines), keys that
    are not scalars, nesting deeper than :data:`MAX_DEPTH` (the root and every
    scalar count as a level, as in the composer it replaces) and more than one
    document. Line numbers come from the events themselves.
    """
    get = parser.get_event
    get()  # StreamStartEvent
    event = get()
    if isinstance(event, yaml.StreamEndEvent):
        return None
    # A DocumentStartEvent. The open collection is (container, key, lines): key is the
    # mapping key waiting for its value (or _NO_KEY), lines maps each key of a mapping
    # to the event that named it (None for a sequence). The stack holds the parents.
    scalar, mapping, sequence, mapping_end, sequence_end = _SCALAR, _MAP, _SEQ, _MAP_END, _SEQ_END
    words, number_start, no_key, max_depth = _WORDS, _NUMBER_START, _NO_KEY, MAX_DEPTH
    stack: list[tuple[Any, Any, Any]] = []
    container: Any = None  # None: the document itself
    key: Any = no_key
    lines: dict[Any, Any] | None = None
    depth = 0
    root: Any = None
    while True:
        event = get()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None or event.tag is not None or depth >= max_depth:
                _refuse_node(event)
            value: Any = event.value
            if event.implicit[0] and (value in words or value[0] in number_start):  # most text needs no look
                value = _plain_value(value, event)
        elif kind is mapping or kind is sequence:
            if event.anchor is not None or event.tag is not None or depth >= max_depth:
                _refuse_node(event)
            value = {} if kind is mapping else []
            if container is None:
                root = value
            elif lines is None:
                container.append(value)
            elif key is no_key:
                raise _Refused("mapping keys must be plain strings", _line(event))
            else:
                container[key] = value
                key = no_key
            stack.append((container, key, lines))
            container, key, lines = value, no_key, ({} if kind is mapping else None)
            depth += 1
            continue
        elif kind is mapping_end or kind is sequence_end:
            container, key, lines = stack.pop()
            depth -= 1
            if container is None:
                break
            continue
        elif kind is _ALIAS:
            raise _Refused("aliases are not allowed (they allow alias bombs)", _line(event))
        else:  # pragma: no cover - the parser emits nothing else inside a document
            raise _Refused(f"unexpected {kind.__name__}", _line(event))
        if container is None:
            root = value
            break
        if lines is None:
            container.append(value)
        elif key is no_key:
            first = lines.get(value)
            if first is not None:
                raise _Refused(f"duplicate key {value!r} (first at line {_line(first)})", _line(event))
            lines[value] = event
            key = value
        else:
            container[key] = value
            key = no_key
    get()  # DocumentEndEvent
    event = get()
    if not isinstance(event, yaml.StreamEndEvent):
        raise _Refused("expected a single document in the stream but found another document", _line(event))
    return root


def _refuse_node(event: Any) -> None:
    """Raise the refusal a node event with an anchor, a tag or one level too many earns."""
    if event.anchor is not None:
        raise _Refused("anchors are not allowed", _line(event))
    if event.tag is not None:
        raise _Refused(f"tag {event.tag!r} is not allowed (only plain YAML is)", _line(event))
    raise _Refused(f"nesting deeper than {MAX_DEPTH} levels", _line(event))


class _PyEvents(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python scanner and parser: the event source where libyaml is missing."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)

    def dispose(self) -> None:
        """Nothing to free (libyaml's parser has a C buffer to release)."""


#: Event sources for :func:`_build`, fastest first: libyaml's C parser (about 100 MB/s
#: alone) when PyYAML was built with it, else the pure-Python one. Both feed the
#: same loop, so they refuse exactly the same input.
_LOADERS: list[type[Any]] = [_PyEvents]

if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - PyYAML wheels ship libyaml
    from yaml._yaml import CParser

    class _CEvents(CParser):
        """libyaml's scanner and parser; only its events are used, never its composer."""

    _LOADERS.insert(0, _CEvents)


def format_for_path(path: str | os.PathLike[str]) -> Format:
    """``json`` for ``*.json``, otherwise ``yaml``."""
    return "json" if str(path).lower().endswith(".json") else "yaml"


#: Longest wait for more bytes from a pipe or device that is open but silent (seconds).
READ_IDLE_SECONDS = 30.0


def read_text(path: Path, max_bytes: int = MAX_BYTES, *, follow_symlinks: bool = True) -> str:
    """Read a UTF-8 file we are about to parse, refusing huge, endless or undecodable input.

    Every file we parse comes through here (articles, imports), whatever its
    type. A regular file's size is checked first, so a 50 MB file costs a
    ``stat``; anything else (``/dev/zero``, a FIFO, ``/dev/stdin``) is capped by
    the bytes actually read. The file is opened non-blocking, so a FIFO that no
    one writes to reads as empty instead of hanging in ``open``; a writer that
    stays silent for :data:`READ_IDLE_SECONDS` is given up on.

    ``follow_symlinks=False`` is for a file that was checked before (a folder
    import found it a regular file inside the folder): it must still be that
    file. A symlink swapped in since is not opened (``O_NOFOLLOW``), and what
    is opened must be a regular file, checked on the open descriptor, so the
    object checked is the object read: no secret outside the folder, no FIFO.
    """
    path = Path(path)
    source = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and exc.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
            raise InvalidArticle([Problem("is now a symlink, not the file that was checked; not followed")],
                                 source) from None
        if isinstance(exc, FileNotFoundError):
            raise InvalidArticle([Problem("no such file")], source) from None
        raise _open_failed(exc, source) from None
    try:
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidArticle([Problem("is a directory, not a file")], source)
        if not follow_symlinks and not regular:
            raise InvalidArticle([Problem("is no longer the regular file that was checked; not read")], source)
        if regular and info.st_size > max_bytes:
            raise InvalidArticle([Problem(f"file is {info.st_size:,} bytes; the limit is {max_bytes:,}")], source)
        raw = _read_capped(fd, max_bytes, source, fifo=stat.S_ISFIFO(info.st_mode))
    except OSError as exc:
        raise InvalidArticle([Problem(f"cannot read: {exc.strerror or exc}")], source) from None
    finally:
        os.close(fd)
    if not raw and not regular:
        raise InvalidArticle([Problem("nothing to read (a pipe or device that gave no bytes)")], source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidArticle(
            [Problem(f"invalid UTF-8 at byte {exc.start} ({raw[exc.start:exc.start + 1]!r})", line=line)],
            source,
        ) from None


def _open_failed(exc: OSError, source: str) -> InvalidArticle:
    if isinstance(exc, IsADirectoryError):
        return InvalidArticle([Problem("is a directory, not a file")], source)
    if isinstance(exc, PermissionError):
        return InvalidArticle([Problem("permission denied")], source)
    return InvalidArticle([Problem(f"cannot open: {exc.strerror or exc}")], source)


#: How long an empty FIFO is given for a writer to appear. A writer blocked in
#: ``open`` is woken by ours but counted only once it runs again; until then a
#: read says end-of-file. Milliseconds on a busy machine; nobody waits for more.
FIFO_WRITER_GRACE_SECONDS = 0.25


def _read_capped(fd: int, max_bytes: int, source: str, fifo: bool = False) -> bytes:
    """At most ``max_bytes`` from ``fd`` (non-blocking), refusing anything longer."""
    chunks: list[bytes] = []
    total = 0
    grace = time.monotonic() + FIFO_WRITER_GRACE_SECONDS if fifo else 0.0
    while True:
        try:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        except BlockingIOError:  # a pipe with a writer and nothing in it yet
            ready, _, _ = select.select([fd], [], [], READ_IDLE_SECONDS)
            if not ready:
                raise InvalidArticle(
                    [Problem(f"no input for {READ_IDLE_SECONDS:g} s (a pipe nobody writes to?)")], source
                ) from None
            continue
        if not chunk:
            if not chunks and time.monotonic() < grace:
                time.sleep(0.01)
                continue
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise InvalidArticle([Problem(f"input is over {max_bytes:,} bytes; the limit is {max_bytes:,}")], source)


def load_path(path: str | os.PathLike[str], format: Format | None = None) -> Article:
    """Load an article from a YAML or JSON file; raise :class:`InvalidArticle` with located problems."""
    path = Path(path)
    return loads(read_text(path), format or format_for_path(path), source=str(path))


def loads(text: str, format: Format = "yaml", source: str | None = None) -> Article:
    """Parse and validate an article from text (see the module docstring for the rules)."""
    if len(text) > MAX_BYTES:
        raise InvalidArticle([Problem(f"input is over {MAX_BYTES:,} characters")], source)
    if format == "json":
        return article_from_data(_parse_json(text, source), source=source)
    return article_from_data(_parse_yaml(text, source), source=source, text=text)


def article_from_data(data: Any, source: str | None = None, text: str | None = None) -> Article:
    """Validate parsed data as an article, turning pydantic's errors into located problems.

    ``text`` is the YAML the data came from, if any: errors then carry its line numbers.
    """
    if not isinstance(data, dict):
        raise InvalidArticle([Problem("an article must be a mapping of fields", line=1)], source)
    data = dict(data)
    schema = data.pop("$schema", None)
    if schema is not None and not isinstance(schema, str):
        raise InvalidArticle([Problem("must be a string", path="$schema")], source)
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        raise InvalidArticle(validation_problems(exc, _compose(text) if text is not None else None), source) from None


def _parse_yaml(text: str, source: str | None) -> Any:
    parser = _LOADERS[0](text)
    try:
        return _build(parser)
    except _Refused as exc:
        raise InvalidArticle([Problem(exc.message, line=exc.line)], source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m)
        if "maximum nesting depth" in message:  # libyaml's own limit (1000)
            message = f"nesting deeper than {MAX_DEPTH} levels"
        raise InvalidArticle([Problem(message, line=mark.line + 1 if mark else None)], source) from None
    except yaml.YAMLError as exc:
        raise InvalidArticle([Problem(f"not valid YAML: {exc}")], source) from None
    finally:
        parser.dispose()


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of text :func:`_parse_yaml` accepted, for the lines of validation errors.

    Only built when validation fails, so loading valid articles never pays for
    nodes and marks. Safe: the text has no aliases, anchors or tags by now.
    """
    fast = _LOADERS[0] is not _PyEvents and hasattr(yaml, "CSafeLoader")
    loader = (yaml.CSafeLoader if fast else yaml.SafeLoader)(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:  # pragma: no cover - the same text just parsed
        return None
    finally:
        loader.dispose()


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (JSON has no such number)")


def _json_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"a number of {digits:,} digits is too long (the limit is {MAX_INT_DIGITS:,}; quote it)")
    return int(text)


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
        return json.loads(
            text, object_pairs_hook=no_duplicates, parse_constant=_json_constant, parse_int=_json_int
        )
    except json.JSONDecodeError as exc:
        raise InvalidArticle([Problem(f"not valid JSON: {exc.msg}", line=exc.lineno)], source) from None
    except ValueError as exc:
        raise InvalidArticle([Problem(str(exc))], source) from None


# A JSON string (skipped whole, whatever brackets it holds) or one bracket.
_JSON_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_depth(text: str) -> int:
    """Maximum bracket depth outside strings: stops json's recursion early.

    One regex match per string or bracket, not a Python step per character
    (that was 0.1 s of the 0.17 s a 1 MB article took to load).
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be too deep; json itself reports anything malformed
    depth = deepest = 0
    for match in _JSON_BRACKETS.finditer(text):
        piece = match.group()
        if piece in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif piece in "]}":
            depth -= 1
    return deepest
