"""AIP-158 list paging shared by every List RPC: the page token is an offset this service issued."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .errors import ViolationCollector

T = TypeVar("T")


def page(
    page_size: int, page_token: str, *, default: int = 50, maximum: int = 500
) -> tuple[int, int]:
    """(size, offset) for a request; a negative size or a token this service did not issue names the field."""
    v = ViolationCollector()
    if page_size < 0:
        v.add("page_size", "must not be negative")
    try:
        offset = int(page_token or "0")
    except ValueError:
        offset = -1
    if offset < 0:
        v.add("page_token", "is not a token this service issued")
    v.raise_if_any()
    return min(page_size or default, maximum), offset


def page_of(rows: Sequence[T], size: int, offset: int) -> tuple[list[T], str]:
    """The page and its next token from a query that fetched `size + 1` rows from `offset` (one more than the
    page, to know whether another page follows)."""
    return list(rows[:size]), (str(offset + size) if len(rows) > size else "")


def window(items: Sequence[T], size: int, offset: int) -> tuple[list[T], str]:
    """The page and its next token from a list held whole."""
    return list(items[offset : offset + size]), (
        str(offset + size) if len(items) > offset + size else ""
    )
