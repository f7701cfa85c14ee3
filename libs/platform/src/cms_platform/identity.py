"""Caller identity: who is calling, carried in gRPC metadata as a signed JWT.

`authorization: Bearer <jwt>` with claims `sub`, `kind` (service | staff | client) and, for staff, `role`.
The server verifies it on every RPC (UNAUTHENTICATED when missing or invalid) and exposes the Caller to
servicers through `current_caller()`. Authorisation rules belong to the domain, not here.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from .clock import Clock, SystemClock
from .errors import Unauthenticated

METADATA_KEY = "authorization"
ISSUER = "cms"


class CallerKind(enum.StrEnum):
    SERVICE = "service"
    STAFF = "staff"
    CLIENT = "client"


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    # Service name, staff id or client id.
    subject: str
    # Staff role (caseworker, team_leader, ...); empty for services and clients.
    role: str = ""

    def describe(self) -> str:
        return f"{self.kind}:{self.subject}" + (f"({self.role})" if self.role else "")


_current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "cms_caller", default=None
)


def bound_caller() -> Caller | None:
    """The caller bound for this call or job, or None (code that must work either way, e.g. an audit trail)."""
    return _current_caller.get()


def current_caller() -> Caller:
    caller = _current_caller.get()
    if caller is None:
        raise Unauthenticated("no caller identity on this call")
    return caller


def bind_caller(caller: Caller | None) -> contextvars.Token:
    return _current_caller.set(caller)


def reset_caller(token: contextvars.Token) -> None:
    _current_caller.reset(token)


_LEEWAY = 5  # seconds of clock skew tolerated between services


class IdentityCodec:
    """Mints and verifies identity tokens with one signing key (from settings)."""

    def __init__(
        self,
        key: str,
        *,
        algorithm: str = "HS256",
        ttl_seconds: int = 300,
        clock: Clock | None = None,
    ):
        if not key:
            raise ValueError("identity signing key is empty")
        self._key = key
        self._algorithm = algorithm
        self._ttl = ttl_seconds
        # Token lifetimes are real time, not business time: a simulation moving the business clock
        # forward a year must not expire every token.
        self._clock = clock or SystemClock()
        # Verified tokens by their exact text, with their expiry: a client reuses its token for minutes, so the
        # signature is checked once rather than on every call. Bounded; a forged token is never cached.
        self._verified: dict[str, tuple[Caller, float]] = {}

    def mint(self, caller: Caller, *, ttl_seconds: int | None = None) -> str:
        now = self._clock.now()
        claims = {
            "iss": ISSUER,
            "sub": caller.subject,
            "kind": str(caller.kind),
            "iat": int(now.timestamp()),
            "exp": int((now + dt.timedelta(seconds=ttl_seconds or self._ttl)).timestamp()),
        }
        if caller.role:
            claims["role"] = caller.role
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def verify(self, token: str) -> Caller:
        cached = self._verified.get(token)
        if (
            cached is not None and time.time() < cached[1]
        ):  # real time and leeway, as the JWT check itself
            return cached[0]
        caller, expires = self._verify(token)
        if len(self._verified) >= 4096:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller

    def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
                leeway=_LEEWAY,
            )
            kind = CallerKind(claims.get("kind", ""))
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"invalid identity token: {exc}") from None
        if kind is CallerKind.STAFF and not claims.get("role"):
            raise Unauthenticated("invalid identity token: staff token without a role")
        return Caller(
            kind=kind, subject=str(claims["sub"]), role=str(claims.get("role", ""))
        ), float(claims["exp"]) + _LEEWAY

    def caller_from_metadata(self, metadata: Iterable[tuple[str, str]] | None) -> Caller:
        for key, value in metadata or ():
            if key == METADATA_KEY:
                scheme, _, token = value.partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
                return self.verify(token)
        raise Unauthenticated(
            "missing caller identity: send 'authorization: Bearer <token>' metadata"
        )


class TokenSource:
    """Gives a fresh token for one caller, re-minting shortly before expiry (used by clients)."""

    def __init__(self, codec: IdentityCodec, caller: Caller, *, ttl_seconds: int = 300):
        self._codec, self._caller, self._ttl = codec, caller, ttl_seconds
        self._token = ""
        self._expires = 0.0

    def token(self) -> str:
        import time

        now = time.time()
        if now > self._expires - 30:
            self._token = self._codec.mint(self._caller, ttl_seconds=self._ttl)
            self._expires = now + self._ttl
        return self._token

    def metadata(self) -> tuple[str, str]:
        return (METADATA_KEY, f"Bearer {self.token()}")


def service_caller(service_name: str) -> Caller:
    return Caller(CallerKind.SERVICE, service_name)


def staff_caller(staff_id: str, role: str = "caseworker") -> Caller:
    return Caller(CallerKind.STAFF, staff_id, role)


def client_caller(client_id: str) -> Caller:
    return Caller(CallerKind.CLIENT, client_id)
