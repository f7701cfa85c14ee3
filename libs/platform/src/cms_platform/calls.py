"""What the current call is, for code below the transport: the operation being served, its deadline and request.

The server interceptor binds it for every RPC; a background job binds its own. Outbound clients take their
deadline from what the current call has left, and audit trails name the operation from here, so the gRPC context
never travels into domain code.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from google.protobuf.message import Message

from .errors import ResourceExhausted


@dataclass(frozen=True)
class Call:
    # The full gRPC method ("/cms.casework.v1.CaseworkService/GetCase") or a background job's name.
    operation: str
    # time.monotonic() by which the caller wants an answer; None when the caller set no deadline.
    deadline: float | None = None
    # The request of a unary RPC (None for a client stream or a job): page tokens are bound to its parameters.
    request: Message | None = None

    @property
    def method(self) -> str:
        """The operation's last part: "GetCase" for an RPC, the job's name otherwise."""
        return self.operation.rsplit("/", 1)[-1]

    def time_remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


_current: contextvars.ContextVar[Call | None] = contextvars.ContextVar("cms_call", default=None)


def current_call() -> Call | None:
    return _current.get()


def operation() -> str:
    """The short name of the operation being served ("" outside any call or job)."""
    call = _current.get()
    return call.method if call else ""


def time_remaining() -> float | None:
    """Seconds the current call has left, or None when there is no call or no deadline."""
    call = _current.get()
    return call.time_remaining() if call else None


# What a call keeps in hand to answer once its own work stops: storing the outcome, the response, the network.
ANSWER_MARGIN_SECONDS = 0.5


def running_out(margin: float | None = None) -> bool:
    """Whether the current call has less than `margin` seconds left (ANSWER_MARGIN_SECONDS by default): a long loop
    stops here and answers with what it has, rather than work on past a deadline its caller has given up at."""
    left = time_remaining()
    return left is not None and left < (ANSWER_MARGIN_SECONDS if margin is None else margin)


def ensure_time(what: str) -> None:
    """For work whose answer must be whole: refuse (RESOURCE_EXHAUSTED, reason DEADLINE_TOO_SHORT) when the call
    is running out, so the caller hears why instead of waiting out its deadline. `what` names the work, no data."""
    if running_out():
        raise ResourceExhausted(
            f"{what} cannot be finished within the call's deadline: send less or allow more time",
            reason="DEADLINE_TOO_SHORT",
        )


def bind(call: Call) -> contextvars.Token[Call | None]:
    return _current.set(call)


def reset(token: contextvars.Token[Call | None]) -> None:
    _current.reset(token)


@contextmanager
def serving(operation: str, *, timeout: float | None = None) -> Iterator[Call]:
    """Bind `operation` (with `timeout` seconds from now, if given) for the duration of a block: background jobs."""
    call = Call(operation, None if timeout is None else time.monotonic() + timeout)
    token = bind(call)
    try:
        yield call
    finally:
        reset(token)
