"""Generic request checks driven by the contracts themselves, run on every RPC before the servicer.

- a field annotated `(google.api.field_behavior) = REQUIRED` must be present (non-empty string, set
  message, non-empty list, non-zero enum), checked recursively through the messages that are set;
- `request_id` (the AIP-155 idempotency key) must be a UUID;
- a google.type.Date that is set must be a real calendar date.

Every violation names the field by its path, e.g. `paying_parent.identity.date_of_birth.month`.
Service-specific rules (NINO format, ranges) stay in the domain packages.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid

from google.api import field_behavior_pb2
from google.protobuf import descriptor as _d
from google.protobuf.message import Message
from google.type import date_pb2

from .errors import FieldViolation

_REQUIRED = field_behavior_pb2.REQUIRED
_DATE = "google.type.Date"


def _is_repeated(field: _d.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _is_map(field: _d.FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


@functools.cache
def _plan(desc: _d.Descriptor) -> tuple[tuple[_d.FieldDescriptor, bool], ...]:
    out = []
    for f in desc.fields:
        behaviors = f.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        out.append((f, _REQUIRED in behaviors))
    return tuple(out)


def check_date(date: date_pb2.Date, path: str, violations: list[FieldViolation]) -> None:
    """google.type.Date rules: a full date must exist; year-month (day 0) and month-day (year 0) are allowed."""
    y, m, d = date.year, date.month, date.day
    if y == m == d == 0:
        return
    ok = 0 <= y <= 9999 and 0 <= m <= 12 and 0 <= d <= 31 and not (m == 0 and d != 0)
    if ok and y and m and d:
        try:
            dt.date(y, m, d)
        except ValueError:
            ok = False
    if not ok:
        violations.append(FieldViolation(path, f"{y:04d}-{m:02d}-{d:02d} is not a valid date"))


def _walk(msg: Message, prefix: str, violations: list[FieldViolation]) -> None:
    for field, required in _plan(msg.DESCRIPTOR):
        path = f"{prefix}{field.name}"
        if _is_map(field):
            continue
        if _is_repeated(field):
            values = getattr(msg, field.name)
            if required and len(values) == 0:
                violations.append(FieldViolation(path, "is required and must not be empty"))
            if field.message_type is not None:
                for i, item in enumerate(values):
                    _walk_message(item, f"{path}[{i}]", violations)
            continue
        if field.message_type is not None:
            present = msg.HasField(field.name)
            if present and field.message_type.full_name == _DATE:
                d = getattr(msg, field.name)
                present = bool(d.year or d.month or d.day)  # an all-zero Date means "no date"
            if required and not present:
                violations.append(FieldViolation(path, "is required"))
            elif present:
                _walk_message(getattr(msg, field.name), path, violations)
            continue
        if not required:
            continue
        value = getattr(msg, field.name)
        if field.type == field.TYPE_STRING and not value.strip():
            violations.append(FieldViolation(path, "is required"))
        elif field.type == field.TYPE_ENUM and value == 0:
            violations.append(FieldViolation(path, "is required (must not be UNSPECIFIED)"))
        elif (
            field.type == field.TYPE_BYTES
            and not value
            or field.has_presence
            and not msg.HasField(field.name)
        ):
            violations.append(FieldViolation(path, "is required"))


def _walk_message(msg: Message, path: str, violations: list[FieldViolation]) -> None:
    if isinstance(msg, date_pb2.Date):
        check_date(msg, path, violations)
    elif not msg.DESCRIPTOR.full_name.startswith("google."):
        _walk(msg, f"{path}.", violations)


def request_violations(request: Message) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    _walk(request, "", violations)
    fields = request.DESCRIPTOR.fields_by_name
    if (
        "request_id" in fields
        and fields["request_id"].type == _d.FieldDescriptor.TYPE_STRING
        and (request_id := getattr(request, "request_id", ""))
    ):
        try:
            uuid.UUID(request_id)
        except ValueError:
            violations.append(
                FieldViolation(
                    "request_id", "must be a UUID (the client-generated idempotency key)"
                )
            )
    return violations
