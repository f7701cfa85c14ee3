"""Generic request validation from the contracts' annotations (cms_platform.validation)."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import casework_service_pb2 as api
from cms.common.v1 import types_pb2 as common
from cms_platform.validation import request_violations


def test_required_fields_are_named_by_path():
    request = api.CreateCaseRequest(request_id="nope")
    request.paying_parent.identity.name.forenames = "Alex"
    fields = {v.field for v in request_violations(request)}
    assert {
        "request_id",
        "receiving_parent",
        "paying_parent.identity.nino",
        "paying_parent.identity.name.surname",
        "paying_parent.identity.date_of_birth",
    } <= fields
    assert "paying_parent.identity.name.forenames" not in fields


@given(st.integers(0, 9999), st.integers(0, 12), st.integers(0, 31))
def test_dates_follow_google_type_date_rules(y, m, d):
    violations = request_violations(
        common.DateRange(start_date=date_pb2.Date(year=y, month=m, day=d))
    )
    if y and m and d:
        try:
            dt.date(y, m, d)
            valid = True
        except ValueError:
            valid = False
    else:
        valid = not (m == 0 and d != 0)
    if y == m == d == 0:
        assert [v.field for v in violations] == ["start_date"]  # required and unset
    else:
        assert (not violations) == valid
