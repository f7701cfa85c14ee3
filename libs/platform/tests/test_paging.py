"""AIP-158 paging (cms_platform.paging): opaque tokens bound to the RPC and the request's parameters."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms.calculation.v1 import calculation_service_pb2 as api
from cms_platform import calls
from cms_platform.errors import InvalidArgument
from cms_platform.paging import MAX_OFFSET, next_token, page, page_of, window

LIST = "/cms.calculation.v1.CalculationService/ListCalculations"
OTHER = "/cms.calculation.v1.CalculationService/ListRuleSets"


@contextmanager
def serving(method: str, request: object = None) -> Iterator[None]:
    token = calls.bind(calls.Call(method, None, request))  # type: ignore[arg-type]
    try:
        yield
    finally:
        calls.reset(token)


def refusal(size: int, token: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as err:
        page(size, token)
    return [(v.field, v.description) for v in err.value.violations]


def test_no_token_is_the_first_page_and_the_size_is_bounded():
    assert page(0, "") == (50, 0) and page(1000, "", maximum=200) == (200, 0)
    assert [f for f, _ in refusal(-1, "")] == ["page_size"]


@given(offset=st.integers(1, MAX_OFFSET), size=st.integers(0, 1000))
def test_a_token_round_trips_within_its_rpc(offset: int, size: int):
    request = api.ListCalculationsRequest(case_reference="case-1", page_size=size)
    with serving(LIST, request):
        token = next_token(offset)
        # The next request differs in its token and may differ in its page size.
        again = api.ListCalculationsRequest(case_reference="case-1", page_size=size + 1)
    with serving(LIST, again):
        assert page(size, token, maximum=1000) == (min(size or 50, 1000), offset)


@given(token=st.text(max_size=40).filter(bool))
def test_anything_else_is_not_a_token_this_service_issued(token: str):
    with serving(LIST):
        assert refusal(10, token) == [("page_token", "is not a token this service issued")]


@pytest.mark.parametrize("token", ["40", "-5", str(2**63), "9" * 40, "abc", "ü", "====", "AAAA"])
def test_numbers_and_junk_are_refused_without_being_echoed(token: str):
    with serving(LIST):
        with pytest.raises(InvalidArgument) as err:
            page(10, token)
    assert [v.field for v in err.value.violations] == ["page_token"]
    assert token not in err.value.message


def test_a_token_of_another_rpc_is_refused():
    with serving(OTHER):
        token = next_token(10)
    with serving(LIST):
        assert refusal(10, token) == [("page_token", "is not a token this service issued")]


def test_a_token_used_with_other_filters_is_refused():
    with serving(LIST, api.ListCalculationsRequest(case_reference="case-1")):
        token = next_token(10)
        assert page(10, token) == (10, 10)
    with serving(LIST, api.ListCalculationsRequest(case_reference="case-2", page_token=token)):
        [(field, why)] = refusal(10, token)
    assert field == "page_token" and "other parameters" in why


def _forged(offset: int, version: int = 1) -> str:
    """A token with this call's binding but a chosen offset or version (as a tamperer would build it)."""
    with serving(LIST):
        raw = base64.urlsafe_b64decode(next_token(1) + "=" * 3)
    _, method, request, _ = struct.unpack(">B4s4sQ", raw)
    forged = struct.pack(">B4s4sQ", version, method, request, offset)
    return base64.urlsafe_b64encode(forged).rstrip(b"=").decode()


@pytest.mark.parametrize("offset", [0, MAX_OFFSET + 1, 2**63, 2**64 - 1])
def test_an_offset_out_of_range_is_refused(offset: int):
    with serving(LIST):
        assert refusal(10, _forged(offset)) == [
            ("page_token", "is not a token this service issued")
        ]
        assert page(10, _forged(MAX_OFFSET)) == (10, MAX_OFFSET)


def test_a_token_of_another_version_is_refused():
    with serving(LIST):
        assert [f for f, _ in refusal(10, _forged(5, version=2))] == ["page_token"]


def test_a_page_and_the_token_of_the_next():
    with serving(LIST):
        rows, token = page_of([1, 2, 3], 2, 10)
        assert rows == [1, 2] and page(2, token) == (2, 12)
        assert page_of([1, 2], 2, 10) == ([1, 2], "")
        items, token = window(list(range(5)), 2, 2)
        assert items == [2, 3] and page(2, token) == (2, 4)
        assert window(list(range(5)), 2, 4) == ([4], "")
