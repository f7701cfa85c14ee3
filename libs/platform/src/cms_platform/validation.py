"""Generic request checks driven by the contracts themselves, run on every RPC before the servicer.

- a field annotated `(google.api.field_behavior) = REQUIRED` must be present (non-empty string, set
  message, non-empty list, non-zero enum), checked recursively through the messages that are set;
- every enum value must be one its enum declares (proto3 enums are open: the wire carries any number);
- the limits the contract declares (`(cms.common.v1.limits)` on a field, `(cms.common.v1.default_limits)` for a
  file, protos/cms/common/v1/field_limits.proto): string length, repeated count, integer range, date years;
- a string holds no control characters but tab and line breaks (PostgreSQL cannot store NUL in text, and none
  belongs in a name, a reason or an id);
- `request_id` (the AIP-155 idempotency key) must be a UUID;
- a google.type.Date that is set must be a real calendar date.

Every violation names the field by its path, e.g. `paying_parent.identity.date_of_birth.month`, and the rule or
limit broken; never the value (it may be personal data). Service-specific rules (NINO format) stay in the domain
packages.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor as _d
from google.protobuf.message import Message
from google.type import date_pb2

from cms.common.v1 import field_limits_pb2 as fl

from .errors import FieldViolation

_REQUIRED = field_behavior_pb2.REQUIRED
_DATE = "google.type.Date"
_F = _d.FieldDescriptor
_INTEGERS = frozenset(
    {
        _F.TYPE_INT32,
        _F.TYPE_INT64,
        _F.TYPE_UINT32,
        _F.TYPE_UINT64,
        _F.TYPE_SINT32,
        _F.TYPE_SINT64,
        _F.TYPE_FIXED32,
        _F.TYPE_FIXED64,
        _F.TYPE_SFIXED32,
        _F.TYPE_SFIXED64,
    }
)
# Used only for a cms file that declares no defaults; the contract test (test_validation.py) keeps that from
# happening for any file a request uses.
FALLBACK = fl.DefaultLimits(max_length=200, max_items=1000, min_year=1900, max_year=2200)


@dataclass(frozen=True)
class Rule:
    """What the walk checks on one field, read once from its descriptor and options."""

    field: _d.FieldDescriptor
    name: str
    required: bool
    max_length: int
    max_items: int
    minimum: int | None
    maximum: int | None
    years: tuple[int, int] | None  # google.type.Date fields: the allowed years, None for any
    enum_values: frozenset[int] | None
    enum_name: str
    # How the walk treats the field's values, decided once here rather than tested on every value: bulk items and
    # every unary request pass through this walk.
    repeated: bool = False
    map: bool = False
    message: bool = False  # a message field (any message)
    date: bool = False  # a google.type.Date field
    opaque: bool = False  # another google.* message: not walked
    scalar: int = 0  # _NOTHING, _TEXT, _BYTES, _ENUM or _BOUNDED for a scalar field


def file_defaults(file: _d.FileDescriptor) -> fl.DefaultLimits | None:
    options = file.GetOptions()
    return (
        options.Extensions[fl.default_limits] if options.HasExtension(fl.default_limits) else None
    )


def limits_of(field: _d.FieldDescriptor) -> fl.FieldLimits:
    return field.GetOptions().Extensions[fl.limits]


@functools.cache
def rule(field: _d.FieldDescriptor) -> Rule:
    owner = field.containing_type  # the message declaring the field: its file's defaults apply
    defaults = (file_defaults(owner.file) if owner is not None else None) or FALLBACK
    own = limits_of(field)
    date = field.message_type is not None and field.message_type.full_name == _DATE
    enum = field.enum_type
    return Rule(
        field=field,
        name=field.name,
        required=_REQUIRED in field.GetOptions().Extensions[field_behavior_pb2.field_behavior],
        # A default the file leaves at zero falls back to the platform's, never to "nothing allowed".
        max_length=own.max_length or defaults.max_length or FALLBACK.max_length,
        max_items=own.max_items or defaults.max_items or FALLBACK.max_items,
        minimum=own.min if own.HasField("min") else None,
        maximum=own.max if own.HasField("max") else None,
        years=None
        if not date or own.any_date
        else (
            own.min_year or defaults.min_year or FALLBACK.min_year,
            own.max_year or defaults.max_year or FALLBACK.max_year,
        ),
        enum_values=frozenset(enum.values_by_number) if enum is not None else None,
        enum_name=enum.name if enum is not None else "",
        repeated=field.is_repeated,
        map=_is_map(field),
        message=field.message_type is not None,
        date=date,
        opaque=field.message_type is not None
        and not date
        and field.message_type.full_name.startswith("google."),
        scalar=_scalar_kind(field, own),
    )


# What a scalar field's values are checked for.
_NOTHING, _TEXT, _BYTES, _ENUM, _BOUNDED = range(5)


def _scalar_kind(field: _d.FieldDescriptor, own: fl.FieldLimits) -> int:
    if field.message_type is not None:
        return _NOTHING
    if field.type == _F.TYPE_STRING:
        return _TEXT
    if field.type == _F.TYPE_BYTES:
        return _BYTES
    if field.enum_type is not None:
        return _ENUM
    if field.type in _INTEGERS and (own.HasField("min") or own.HasField("max")):
        return _BOUNDED
    return _NOTHING  # bools, floats, integers without limits: nothing to check


def _is_map(field: _d.FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


@functools.cache
def _required(desc: _d.Descriptor) -> tuple[Rule, ...]:
    return tuple(r for r in map(rule, desc.fields) if r.required)


def check_date(
    date: date_pb2.Date,
    path: str,
    violations: list[FieldViolation],
    years: tuple[int, int] | None = None,
) -> None:
    """google.type.Date rules: a full date must exist; year-month (day 0) and month-day (year 0) are allowed; a year
    must fall in `years` (inclusive) when given. The description never shows the date (it may be a birth date)."""
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
        violations.append(FieldViolation(path, "is not a valid calendar date"))
    elif years is not None and y and not years[0] <= y <= years[1]:
        violations.append(
            FieldViolation(path, f"must be a date in the years {years[0]} to {years[1]}")
        )


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _scalar(r: Rule, value: object, path: str, violations: list[FieldViolation]) -> None:
    """One string, bytes, enum or integer value against its field's rule."""
    for description in _scalar_problems(r, value):
        violations.append(FieldViolation(path, description))


def _scalar_problems(r: Rule, value: Any) -> tuple[str, ...]:
    """What is wrong with one value of a scalar field; () for nearly every value, so the walk builds a field's path
    only for a value that breaks its rule."""
    kind = r.scalar
    if kind == _TEXT:
        if len(value) > r.max_length:
            return (f"must be at most {r.max_length} characters",)
        # isprintable() is false for every control character: the search runs only on the rare text with one.
        if not value.isprintable() and _CONTROL.search(value):
            return ("must not contain control characters (tab and line breaks aside)",)
    elif kind == _BYTES:
        if len(value) > r.max_length:
            return (f"must be at most {r.max_length} bytes",)
    elif kind == _ENUM:
        if r.enum_values is not None and value not in r.enum_values:
            return (f"is not a value {r.enum_name} declares",)
    elif kind == _BOUNDED:
        low = r.minimum is not None and value < r.minimum
        high = r.maximum is not None and value > r.maximum
        if low or high:
            return (
                *((f"must be at least {r.minimum}",) if low else ()),
                *((f"must be at most {r.maximum}",) if high else ()),
            )
    return ()


def _walk(
    msg: Message, prefix: str, violations: list[FieldViolation], required_checks: bool
) -> None:
    if required_checks:
        for r in _required(msg.DESCRIPTOR):
            _check_required(msg, r, f"{prefix}{r.name}", violations)
    # Only the fields set can break a limit: a field at its zero value is "not given" in proto3 (whether it may be
    # is REQUIRED's business), and reading only these keeps the walk cheap enough for bulk items.
    for field, value in msg.ListFields():
        r = rule(field)
        if r.repeated:
            path = f"{prefix}{r.name}"
            if len(value) > r.max_items:
                # Its items are not looked at: a batch this size is refused whole, cheaply.
                violations.append(FieldViolation(path, f"must have at most {r.max_items} items"))
            elif r.map:
                continue  # keys and values: no cms contract uses maps in requests
            elif r.message:
                for i, item in enumerate(value):
                    _walk_message(item, f"{path}[{i}]", violations, required_checks, r)
            elif r.scalar:
                for i, item in enumerate(value):
                    for description in _scalar_problems(r, item):
                        violations.append(FieldViolation(f"{path}[{i}]", description))
        elif r.message:
            if not r.opaque:
                _walk_message(value, f"{prefix}{r.name}", violations, required_checks, r)
        elif r.scalar:
            for description in _scalar_problems(r, value):
                violations.append(FieldViolation(f"{prefix}{r.name}", description))


def _check_required(msg: Message, r: Rule, path: str, violations: list[FieldViolation]) -> None:
    field = r.field
    if field.is_repeated:
        if len(getattr(msg, r.name)) == 0:
            violations.append(FieldViolation(path, "is required and must not be empty"))
        return
    if field.message_type is not None:
        present = msg.HasField(r.name)
        if present and field.message_type.full_name == _DATE:
            d = getattr(msg, r.name)
            present = bool(d.year or d.month or d.day)  # an all-zero Date means "no date"
        if not present:
            violations.append(FieldViolation(path, "is required"))
        return
    value = getattr(msg, r.name)
    if field.type == field.TYPE_STRING and not value.strip():
        violations.append(FieldViolation(path, "is required"))
    elif field.type == field.TYPE_ENUM and value == 0:
        violations.append(FieldViolation(path, "is required (must not be UNSPECIFIED)"))
    elif (
        field.type == field.TYPE_BYTES
        and not value
        or field.has_presence
        and not msg.HasField(r.name)
    ):
        violations.append(FieldViolation(path, "is required"))


def _walk_message(
    msg: Message, path: str, violations: list[FieldViolation], required_checks: bool, r: Rule
) -> None:
    if r.date:
        check_date(msg, path, violations, r.years)
    elif not r.opaque:
        _walk(msg, f"{path}.", violations, required_checks)


def request_violations(request: Message, *, required: bool = True) -> list[FieldViolation]:
    """Every violation of the contract's rules in `request`. `required=False` leaves out the required-field and
    request-id checks (for items whose service reports those itself, e.g. BulkCalculate's) and keeps the limits."""
    violations: list[FieldViolation] = []
    _walk(request, "", violations, required)
    fields = request.DESCRIPTOR.fields_by_name
    if (
        required
        and "request_id" in fields
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


def stream_limits(services: Iterable[_d.ServiceDescriptor]) -> dict[str, int]:
    """{"/package.Service/Method": most messages a call carries} for the client-streaming methods that declare
    `(cms.common.v1.stream_limits)`."""
    out = {}
    for service in services:
        for method in service.methods:
            options = method.GetOptions()
            if method.client_streaming and options.HasExtension(fl.stream_limits):
                limit = options.Extensions[fl.stream_limits].max_messages
                if limit:
                    out[f"/{service.full_name}/{method.name}"] = limit
    return out
