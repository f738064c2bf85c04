"""The API's own records: what routes answer beside the library's (articles, diffs, blame, merges, changes).

Frozen Pydantic models, so the OpenAPI document at ``/api/v1/openapi.json`` is
built from the same classes that serialise the answers.
"""

from __future__ import annotations

import datetime as _dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..merge import ConflictItem, MergedItem
from ..review import Change, ReferenceHealth

__all__ = [
    "ArticleList",
    "ArticleSummary",
    "Changes",
    "ErrorDetail",
    "ErrorResponse",
    "Health",
    "HistoryPage",
    "RevisionInfo",
    "SaveResult",
    "SaveStatus",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorDetail(_Frozen):
    """One error: a stable code, the CLI's plain words, and the field (or header) at fault."""

    code: str = Field(description="Stable machine-readable code: not-found, invalid-article, edit-conflict, ...")
    message: str
    field: str | None = Field(default=None, description="The field path, header or parameter at fault.")
    current: str | None = Field(default=None, description="On 409 and 412: the article's latest revision.")
    conflicts: list[ConflictItem] | None = Field(default=None, description="On 409: every conflicting item.")


class ErrorResponse(_Frozen):
    """Every error answer has this one shape."""

    error: ErrorDetail


class ArticleSummary(_Frozen):
    """One article of a listing."""

    slug: str
    title: str
    revision: str | None = Field(description="The article's latest revision; null if history cannot see it.")
    date: _dt.datetime | None


class ArticleList(_Frozen):
    """A page of articles by slug; pass ``next_cursor`` as ``cursor`` for the next page."""

    articles: list[ArticleSummary]
    next_cursor: str | None = None


class SaveStatus(StrEnum):
    """What a PUT did."""

    CREATED = "created"
    SAVED = "saved"
    MERGED = "merged"
    UNCHANGED = "unchanged"


class SaveResult(_Frozen):
    """The answer to a successful PUT."""

    slug: str
    revision: str = Field(description="The new revision (the latest one when nothing changed).")
    status: SaveStatus
    merged_with: str | None = Field(default=None, description="When merged: the other edit's revision.")
    merged: list[MergedItem] = Field(default_factory=list, description="When merged: each item and its side.")


class RevisionInfo(_Frozen):
    """One revision as history lists it."""

    id: str
    short: str
    author: str
    email: str
    date: _dt.datetime
    message: str
    path: str


class HistoryPage(_Frozen):
    """A page of an article's revisions, newest first; ``older_than`` the last id for the next page."""

    slug: str
    revisions: list[RevisionInfo]
    next_older_than: str | None = None


class Health(_Frozen):
    """Each reference's last observation in the link database (no network)."""

    slug: str
    revision: str | None
    references: list[ReferenceHealth]


class Changes(_Frozen):
    """Recent changes across the wiki, newest first."""

    changes: list[Change]


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema (for tests and for documentation)."""
    return model.model_json_schema()
