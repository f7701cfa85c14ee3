"""Request-id replay for mutating RPCs (AIP-155).

The stored response is written in the same transaction as the state change and its outbox event, so a
retry after any failure either finds the whole effect or none of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .clock import Clock
from .errors import InvalidArgument
from .models import IdempotentRequest

M = TypeVar("M", bound=Message)


def request_hash(request: Message) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def replay(
    db_session: Session, *, method: str, request: Message, response_type: type[M]
) -> M | None:
    """The stored response for this request id, or None if it has not been executed."""
    row = db_session.get(IdempotentRequest, (method, request.request_id))
    if row is None:
        return None
    if row.request_hash != request_hash(request):
        raise InvalidArgument.field(
            "request_id", "was already used for a different request; use a new id"
        )
    out = response_type()
    out.ParseFromString(row.response)
    return out


def remember(
    db_session: Session, *, method: str, request: Message, response: Message, clock: Clock
) -> None:
    db_session.add(
        IdempotentRequest(
            method=method,
            request_id=request.request_id,
            request_hash=request_hash(request),
            response=response.SerializeToString(),
            created_at=clock.now(),
        )
    )


def run_idempotent(
    sessions: sessionmaker,
    *,
    method: str,
    request: Message,
    response_type: type[M],
    clock: Clock,
    execute: Callable[[Session], M],
) -> M:
    """Execute `execute(session)` once per request id, in one transaction with the stored response."""
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
