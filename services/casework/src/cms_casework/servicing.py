"""What every casework gRPC servicer does around its domain call: a read in one transaction (reads write their audit
entry), a change replayed by request id and run in one transaction, and every refusal audited on the case the call
names in a transaction of its own (the call's own rolls back). The casework API and each money context's API
(accounts, methods of payment, arrears) share it; each says how a request names its case (`where`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms_platform.clock import Clock
from cms_platform.errors import PermissionDenied
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import Caller, current_caller

from .access import service as access
from .case_records import service as case_records

R = TypeVar("R")
M = TypeVar("M", bound=Message)


def case_named_in(request: Message) -> tuple[str, str]:
    """(case id, resource) a request names by its `name` or `parent` (`cases/{case_id}/...`); no case: ("", ...)."""
    resource = getattr(request, "name", "") or getattr(request, "parent", "")
    if not isinstance(resource, str):
        return "", ""
    for field in ("name", "parent"):
        value = getattr(request, field, "")
        if isinstance(value, str) and value.startswith("cases/"):
            return value.split("/")[1], resource
    return "", resource


class Servicing:
    """Mixed into a casework servicer, which sets `_sessions` and `_clock`."""

    _sessions: sessionmaker
    _clock: Clock

    def where(self, db: Session, request: Message) -> tuple[str, str]:
        """(case id, resource) a refused request is audited under; no case id: not audited."""
        return case_named_in(request)

    def audits_caseless(self, resource: str) -> bool:
        """Whether a refusal on this resource, which belongs to no case, is audited all the same."""
        return False

    def _refused(self, caller: Caller, case_id: str, resource: str) -> None:
        if not case_id and not self.audits_caseless(resource):
            return
        with self._sessions.begin() as s:
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                case_id=case_id,
                resource=resource,
                permitted=False,
            )

    def _refused_request(self, caller: Caller, request: Message) -> None:
        with self._sessions() as s:
            case_id, resource = self.where(s, request)
        self._refused(caller, case_id, resource)

    def refused_by_policy(self, method: str, request: Message | None) -> None:
        """The platform refused the call (the RPC's access policy): audited on the case it names, as every refusal."""
        if request is not None:
            self._refused_request(current_caller(), request)

    def _guard(self, request: Message, fn: Callable[[Caller], R]) -> R:
        caller = current_caller()
        try:
            return fn(caller)
        except access.HiddenCase as hidden:
            self._refused(caller, hidden.case_id, hidden.name)
            raise
        except PermissionDenied:
            self._refused_request(caller, request)
            raise

    def _read(self, request: Message, fn: Callable[[Session, Caller], R]) -> R:
        def run(caller: Caller) -> R:
            with self._sessions.begin() as s:  # reads write their audit entry
                return fn(s, caller)

        return self._guard(request, run)

    def _case_page(
        self,
        request: Any,
        *,
        items: Callable[..., tuple[list[R], bool]],
        maximum: int,
        audited: bool = True,
    ) -> tuple[list[R], str]:
        """A page of one of a case's collections (`request.parent`) behind the case's visibility: a List RPC's
        whole body, `items` being the context's `(db, case_id, size, offset)` listing."""
        return self._read(
            request,
            lambda s, c: case_records.page_of(
                s,
                parent=request.parent,
                caller=c,
                clock=self._clock,
                page_size=request.page_size,
                page_token=request.page_token,
                maximum=maximum,
                items=items,
                audited=audited,
            ),
        )

    def _change(
        self, request: Any, response_type: type[M], fn: Callable[[Session, Caller], M]
    ) -> M:
        def run(caller: Caller) -> M:
            return run_idempotent(
                self._sessions,
                request=request,
                response_type=response_type,
                clock=self._clock,
                execute=lambda s: fn(s, caller),
            )

        return self._guard(request, run)
