"""Resource names (AIP-122) of casework's resources and the ids inside them: `cases/{id}`, `clients/{id}`,
`cases/{case_id}/{collection}/{id}`. A malformed name is INVALID_ARGUMENT naming the request field it came in."""

from __future__ import annotations

import uuid

from cms_platform.errors import InvalidArgument


def new_id() -> str:
    return str(uuid.uuid4())


def id_from(name: str, collection: str, field: str) -> str:
    """The id in `{collection}/{id}`, or INVALID_ARGUMENT naming `field`."""
    prefix = f"{collection}/"
    if not name.startswith(prefix) or not name[len(prefix) :] or "/" in name[len(prefix) :]:
        raise InvalidArgument.field(field, f"must look like {collection}/{{id}}")
    return name[len(prefix) :]


def child_of(name: str, collection: str, field: str) -> tuple[str, str]:
    """(case_id, item id) of `cases/{case_id}/{collection}/{id}`."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "cases"
        or parts[2] != collection
        or not parts[1]
        or not parts[3]
    ):
        raise InvalidArgument.field(field, f"must look like cases/{{case_id}}/{collection}/{{id}}")
    return parts[1], parts[3]


def case_id_of(name: str, field: str = "name") -> str:
    """The id of `cases/{id}`."""
    return id_from(name, "cases", field)


def last_id(name: str) -> str:
    """The last id of a resource name (`cases/1/paymentPlans/2` → `2`)."""
    return name.rsplit("/", 1)[-1]


# Downstream request ids are derived from ours, so a retried step is a retried downstream call.
_NAMESPACE = uuid.UUID("5b0f8d8e-3a53-4b8e-9a57-1d1f7c0f2a10")


def derived_id(*parts: str) -> str:
    """A request id for a downstream call, the same every time for the same parts."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))
