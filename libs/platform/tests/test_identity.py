"""Caller identity tokens (cms_platform.identity)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from cms_platform.clock import ManualClock
from cms_platform.errors import Unauthenticated
from cms_platform.identity import CallerKind, IdentityCodec, client_caller, staff_caller

KEY = "a-test-signing-key-of-a-sensible-length-32b"


def test_tokens_round_trip_and_forgeries_fail():
    codec = IdentityCodec(KEY)
    caller = codec.verify(codec.mint(staff_caller("s-1", "team_leader")))
    assert (caller.kind, caller.subject, caller.role) == (CallerKind.STAFF, "s-1", "team_leader")
    assert codec.verify(codec.mint(client_caller("c-9"))).kind is CallerKind.CLIENT
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY + "x").verify(codec.mint(client_caller("c-9")))
    with pytest.raises(Unauthenticated):
        codec.caller_from_metadata([("authorization", "Basic abc")])
    with pytest.raises(Unauthenticated):
        codec.caller_from_metadata([])


def test_expired_tokens_are_refused():
    past = ManualClock(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    token = IdentityCodec(KEY, clock=past, ttl_seconds=60).mint(staff_caller("s-1"))
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY).verify(token)


def test_verified_tokens_are_cached_until_they_expire(monkeypatch):
    codec = IdentityCodec(KEY, ttl_seconds=60)
    token = codec.mint(staff_caller("s-1"))
    calls = []
    real = codec._verify
    monkeypatch.setattr(codec, "_verify", lambda t: calls.append(t) or real(t))
    codec.verify(token)
    codec.verify(token)
    assert len(calls) == 1  # the signature is checked once
    import cms_platform.identity as identity

    later = time.time() + 3600
    monkeypatch.setattr(identity.time, "time", lambda: later)
    codec.verify(token)  # expired in the cache: checked again (and PyJWT decides on its own clock)
    assert len(calls) == 2
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY + "x").verify(token)  # another key never sees the cached entry
