"""Request-id replay for mutating RPCs (AIP-155).

The stored response is written in the same transaction as the state change and its outbox event, so a
retry after any failure either finds the whole effect or none of it. A stored answer belongs to the caller who
made the request: the same request id from anyone else is refused and never sees it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import calls
from .clock import Clock
from .errors import InvalidArgument
from .identity import bound_caller
from .models import IdempotentRequest

M = TypeVar("M", bound=Message)


def request_hash(request: Message) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def request_id_of(request: Message) -> str:
    """The AIP-155 idempotency key every mutating request carries ("" when the message has none)."""
    return str(getattr(request, "request_id", ""))


def method_of(method: str | None) -> str:
    """The key's method: the one named, else the operation being served (cms_platform.calls)."""
    name = method or calls.operation()
    if not name:
        raise ValueError("no method to key the request by: name one outside a call")
    return name


def caller_key() -> str:
    """Who a stored answer belongs to: the caller's kind and subject ("" for work no caller asked for)."""
    caller = bound_caller()
    return f"{caller.kind}:{caller.subject}" if caller else ""


def check_replay(row: IdempotentRequest, request: Message) -> None:
    """A stored answer is given again only to the caller who asked, for the same request; anything else is a
    refusal naming request_id (saying nothing of what is stored)."""
    if row.caller != caller_key():
        raise InvalidArgument.field(
            "request_id", "was already used by another caller; use a new id"
        )
    if row.request_hash != request_hash(request):
        raise InvalidArgument.field(
            "request_id", "was already used for a different request; use a new id"
        )


def replay(
    db_session: Session, *, request: Message, response_type: type[M], method: str | None = None
) -> M | None:
    """The stored response for this request id, or None if it has not been executed."""
    row = db_session.get(IdempotentRequest, (method_of(method), request_id_of(request)))
    if row is None:
        return None
    check_replay(row, request)
    out = response_type()
    out.ParseFromString(row.response)
    return out


def remember(
    db_session: Session,
    *,
    request: Message,
    response: Message,
    clock: Clock,
    method: str | None = None,
) -> None:
    db_session.add(
        IdempotentRequest(
            method=method_of(method),
            request_id=request_id_of(request),
            request_hash=request_hash(request),
            caller=caller_key()[:200],
            response=response.SerializeToString(),
            created_at=clock.now(),
        )
    )


def run_idempotent(
    sessions: sessionmaker,
    *,
    request: Message,
    response_type: type[M],
    clock: Clock,
    execute: Callable[[Session], M],
    method: str | None = None,
) -> M:
    """Execute `execute(session)` once per request id, in one transaction with the stored response. The key is
    the method (by default the operation being served) and the request id."""
    method = method_of(method)
    try:
        with sessions.begin() as s:
            previous = replay(s, method=method, request=request, response_type=response_type)
            if previous is not None:
                return previous
            response = execute(s)
            remember(s, method=method, request=request, response=response, clock=clock)
            return response
    except IntegrityError:
        # Either a concurrent retry with the same id committed first (replay its response), or the
        # change itself broke a constraint (re-raise).
        with sessions.begin() as s:
            previous = replay(s, method=method, request=request, response_type=response_type)
        if previous is None:
            raise
        return previous
