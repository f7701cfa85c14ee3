"""AIP-158 list paging shared by every List RPC: page tokens are opaque, and honoured only by the RPC and the
request that they were issued for.

A token is the urlsafe base64 (unpadded) of a small versioned payload: a digest of the RPC method, a digest of the
request without its `page_size` and `page_token` (its filters and ordering), and the offset of the next page. The
method and request come from the call being served (`cms_platform.calls`); outside any call both are empty, so
tokens still round-trip in direct calls. A token that does not decode, was issued by another RPC or carries an
offset out of range is refused as one this service did not issue; one used with other filters is refused as such
(AIP-158: only `page_size` may change between pages). The token is never echoed back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from typing import TypeVar

from google.protobuf.message import Message

from . import calls
from .errors import FieldViolation, ViolationCollector

T = TypeVar("T")

_VERSION = 1
# version, method digest, request digest, offset.
_LAYOUT = struct.Struct(">B4s4sQ")
# Far beyond any list the services hold; keeps every offset within a signed 64-bit SQL OFFSET.
MAX_OFFSET = 2**31 - 1
_NOT_ISSUED = "is not a token this service issued"
_OTHER_FILTERS = (
    "was issued for a request with other parameters; only page_size may change between pages"
)
_PAGING_FIELDS = ("page_size", "page_token")


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=4).digest()


def _request_key(request: Message | None) -> bytes:
    """The request's parameters other than paging, deterministically serialised."""
    if request is None:
        return b""
    fields = request.DESCRIPTOR.fields_by_name
    if not any(f in fields for f in _PAGING_FIELDS):
        return request.SerializeToString(deterministic=True)
    copy = type(request)()
    copy.CopyFrom(request)
    for name in _PAGING_FIELDS:
        if name in fields:
            copy.ClearField(name)
    return copy.SerializeToString(deterministic=True)


def _binding() -> tuple[bytes, bytes]:
    call = calls.current_call()
    if call is None:
        return _digest(b""), _digest(b"")
    return _digest(call.operation.encode()), _digest(_request_key(call.request))


def next_token(offset: int) -> str:
    """The token of the page starting at `offset`, for the RPC and request being served."""
    if not 0 <= offset < 2**63:
        raise ValueError("page offset out of range")
    method, request = _binding()
    raw = _LAYOUT.pack(_VERSION, method, request, offset)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _offset(token: str) -> tuple[int | None, str]:
    """The offset a token carries, or None and why it is refused."""
    if not token:
        return 0, ""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None, _NOT_ISSUED
    if len(raw) != _LAYOUT.size:
        return None, _NOT_ISSUED
    version, method, request, offset = _LAYOUT.unpack(raw)
    want_method, want_request = _binding()
    if version != _VERSION or method != want_method or not 0 < offset <= MAX_OFFSET:
        return None, _NOT_ISSUED
    if request != want_request:
        return None, _OTHER_FILTERS
    return offset, ""


def token_violations(request: Message) -> list[FieldViolation]:
    """The server's generic check of a List request's `page_token`, before the servicer runs."""
    if "page_token" not in request.DESCRIPTOR.fields_by_name:
        return []
    token = getattr(request, "page_token", "")
    if not isinstance(token, str):
        return []
    offset, why = _offset(token)
    return [] if offset is not None else [FieldViolation("page_token", why)]


def page(
    page_size: int, page_token: str, *, default: int = 50, maximum: int = 500
) -> tuple[int, int]:
    """(size, offset) for a request; a negative size or a token this service did not issue names the field."""
    v = ViolationCollector()
    if page_size < 0:
        v.add("page_size", "must not be negative")
    offset, why = _offset(page_token)
    if offset is None:
        v.add("page_token", why)
    v.raise_if_any()
    assert offset is not None
    return min(page_size or default, maximum), offset


def page_of(rows: Sequence[T], size: int, offset: int) -> tuple[list[T], str]:
    """The page and its next token from a query that fetched `size + 1` rows from `offset` (one more than the
    page, to know whether another page follows)."""
    return list(rows[:size]), (next_token(offset + size) if len(rows) > size else "")


def window(items: Sequence[T], size: int, offset: int) -> tuple[list[T], str]:
    """The page and its next token from a list held whole."""
    return list(items[offset : offset + size]), (
        next_token(offset + size) if len(items) > offset + size else ""
    )
