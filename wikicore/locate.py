"""Where in an article file a validation error points: one :class:`Problem` per error, with path and line.

Pydantic names a field by its location in the data (``lead[0].claims[2].citations``);
a person editing YAML wants the line. The file is composed once more (only
when validation failed) and each location walked down to the deepest node it
reaches, and unknown fields get a "did you mean" from the model's own fields.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem
from .models import Article

__all__ = ["validation_problems"]


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


def validation_problems(exc: ValidationError, root: yaml.Node | None) -> list[Problem]:
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
