"""Caller identity: who is calling, proved by a JWT that an issuer this service trusts signed with an asymmetric key.

A caller sends `authorization: Bearer <jwt>`. The server verifies it on every RPC (UNAUTHENTICATED when missing or
not acceptable) and binds the Caller for the code below (`current_caller()`). Authorisation belongs elsewhere.

A service trusts the issuers its settings name (`identity_issuers`, `TrustedIssuer`): each with its `iss`, where its
public keys are (a JWKS URL or file), the algorithms it signs with (pinned, asymmetric only) and the kinds of
caller it may vouch for. Typically two:
- the organisation's OIDC provider for staff and clients: subject, kind and role come from claims it names;
- the Kubernetes cluster's ServiceAccount issuer for services: a projected token's subject
  `system:serviceaccount:<namespace>:<name>` is the service `<name>`, for the namespaces named.
Every token needs `exp`, a known `iss` and this service's own audience in `aud` (`identity_audience`, by default
the service's name), within a bounded clock skew. The algorithm comes from the issuer's key, never from the token.

A service holds no private key: what it sends when it calls another service is a token for that service's
audience that the platform writes and rotates in a file (`TokenFile`: a projected ServiceAccount token on
Kubernetes, the local issuer's on a developer's machine).
"""

from __future__ import annotations

import abc
import contextvars
import enum
import os
import re
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import Unauthenticated, Unavailable

log = structlog.get_logger("cms.identity")

METADATA_KEY = "authorization"


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
        raise Unauthenticated("no caller identity on this call", reason="IDENTITY_MISSING")
    return caller


def bind_caller(caller: Caller | None) -> contextvars.Token:
    return _current_caller.set(caller)


def reset_caller(token: contextvars.Token) -> None:
    _current_caller.reset(token)


def service_caller(service_name: str) -> Caller:
    return Caller(CallerKind.SERVICE, service_name)


def staff_caller(staff_id: str, role: str = "caseworker") -> Caller:
    return Caller(CallerKind.STAFF, staff_id, role)


def client_caller(client_id: str) -> Caller:
    return Caller(CallerKind.CLIENT, client_id)


# -- trusted issuers -------------------------------------------------------------------------------------------------

# Asymmetric only: with an HMAC algorithm whoever can verify a token can also mint one. Kubernetes clusters sign
# ServiceAccount tokens with RS256 unless their signing key is an EC key.
Algorithm = Literal["ES256", "ES384", "EdDSA", "RS256", "PS256"]
# A service caller is named by its bare service name (what the access policy lists), e.g. "casework".
SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_SERVICE_ACCOUNT = re.compile(r"system:serviceaccount:([a-z0-9-]{1,63}):([a-z0-9.-]{1,253})")


class TrustedIssuer(BaseModel):
    """One issuer a service accepts tokens from (an entry of the `identity_issuers` setting, JSON in the env)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The exact `iss` of its tokens.
    issuer: str = Field(min_length=1)
    # Where its public keys are: a JWKS URL (cached, refetched for an unknown key id) or a JWKS file (re-read when
    # it changes). Exactly one.
    jwks_url: str | None = None
    jwks_file: Path | None = None
    # The algorithms its keys may sign with; a key of any other algorithm is not used.
    algorithms: tuple[Algorithm, ...] = Field(default=("ES256",), min_length=1)
    # The kinds of caller it may vouch for: a token claiming another kind is refused.
    kinds: tuple[CallerKind, ...] = Field(min_length=1)
    # "claims": subject, kind and role are read from the claims named below (an OIDC provider). "kubernetes": a
    # projected ServiceAccount token; `system:serviceaccount:<namespace>:<name>` is the service caller `<name>`.
    subjects: Literal["claims", "kubernetes"] = "claims"
    subject_claim: str = "sub"
    kind_claim: str = "kind"
    role_claim: str = "role"
    # "kubernetes": the namespaces whose ServiceAccounts are CMS services (another namespace's `casework` is not).
    namespaces: tuple[str, ...] = ()
    # For a JWKS URL that needs a bearer token (the Kubernetes API server's /openid/v1/jwks): a file holding it,
    # read afresh on every fetch because the kubelet rotates it; and the CA bundle to trust for that URL.
    jwks_token_file: Path | None = None
    jwks_ca_file: Path | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> TrustedIssuer:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"issuer {self.issuer!r}: give exactly one of jwks_url and jwks_file")
        if self.jwks_url is not None and not self.jwks_url.startswith(("https://", "http://")):
            raise ValueError(f"issuer {self.issuer!r}: jwks_url must be http(s)")
        if self.jwks_url is None and (self.jwks_token_file or self.jwks_ca_file):
            raise ValueError(
                f"issuer {self.issuer!r}: jwks_token_file and jwks_ca_file need a jwks_url"
            )
        if self.subjects == "kubernetes":
            if set(self.kinds) != {CallerKind.SERVICE}:
                raise ValueError(
                    f"issuer {self.issuer!r}: a Kubernetes issuer vouches for services only"
                )
            if not self.namespaces:
                raise ValueError(
                    f"issuer {self.issuer!r}: name the namespaces whose ServiceAccounts are services"
                )
        return self


class _JwksFile:
    """An issuer's keys from a JWKS file, re-read when the file changes (a ConfigMap update, a new local issuer)."""

    def __init__(self, path: Path):
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            try:
                st = self._path.stat()
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
                if stamp != self._stamp or self._keys is None:
                    self._keys = jwt.PyJWKSet.from_json(self._path.read_text())
                    self._stamp = stamp
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                log.warning("cannot read an issuer's keys", path=str(self._path), error=str(exc))
                raise Unavailable(
                    "the identity issuer's keys cannot be read", reason="ISSUER_KEYS_UNAVAILABLE"
                ) from None
            keys = self._keys
        for key in keys.keys:
            if key.key_id == kid:
                return key
        raise Unauthenticated("invalid identity token: signed with a key the issuer does not hold")


class _JwksClient(jwt.PyJWKClient):
    """PyJWKClient that, on every fetch, sends the bearer token held in a file (read afresh: the kubelet rotates it)
    and trusts the CA bundle in a file, as the Kubernetes API server's /openid/v1/jwks needs."""

    def __init__(self, url: str, *, token_file: Path | None, ca_file: Path | None, lifespan: float):
        super().__init__(url, cache_jwk_set=True, lifespan=lifespan, timeout=5)
        self._token_file, self._ca_file = token_file, ca_file

    def fetch_data(self) -> Any:
        try:
            if self._token_file is not None:
                self.headers = {"Authorization": f"Bearer {self._token_file.read_text().strip()}"}
            if self._ca_file is not None:
                self.ssl_context = ssl.create_default_context(cafile=str(self._ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise jwt.PyJWKClientConnectionError(f"cannot prepare the JWKS request: {exc}") from exc
        return super().fetch_data()

    def key(self, kid: str) -> jwt.PyJWK:
        try:
            return self.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("cannot fetch an issuer's keys", url=self.uri, error=str(exc))
            raise Unavailable(
                "the identity issuer's keys cannot be fetched", reason="ISSUER_KEYS_UNAVAILABLE"
            ) from None
        except jwt.PyJWTError:
            raise Unauthenticated(
                "invalid identity token: signed with a key the issuer does not hold"
            ) from None


def _refuse(why: str) -> Unauthenticated:
    return Unauthenticated(f"invalid identity token: {why}")


class _Issuer:
    """A trusted issuer at work: its keys and how its claims become a Caller."""

    def __init__(self, config: TrustedIssuer):
        self.config = config
        self.keys: _JwksFile | _JwksClient = (
            _JwksFile(config.jwks_file)
            if config.jwks_file is not None
            else _JwksClient(
                str(config.jwks_url),
                token_file=config.jwks_token_file,
                ca_file=config.jwks_ca_file,
                lifespan=config.jwks_cache_seconds,
            )
        )

    def caller(self, claims: Mapping[str, Any]) -> Caller:
        c = self.config
        if c.subjects == "kubernetes":
            match = _SERVICE_ACCOUNT.fullmatch(str(claims.get("sub", "")))
            if match is None:
                raise _refuse("not a ServiceAccount subject")
            namespace, name = match.groups()
            if namespace not in c.namespaces or not SERVICE_NAME.fullmatch(name):
                raise _refuse("a ServiceAccount this service does not trust")
            return service_caller(name)
        subject = claims.get(c.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise _refuse(f"no {c.subject_claim!r} claim")
        kind_value = claims.get(c.kind_claim)
        # An issuer that vouches for one kind only (a citizens' or a workforce IdP) need not say which.
        if kind_value is None and len(c.kinds) == 1:
            kind = c.kinds[0]
        else:
            try:
                kind = CallerKind(str(kind_value))
            except ValueError:
                raise _refuse(f"no valid {c.kind_claim!r} claim") from None
        if kind not in c.kinds:
            raise _refuse(f"its issuer may not vouch for {kind} callers")
        if kind is CallerKind.SERVICE:
            if not SERVICE_NAME.fullmatch(subject):
                raise _refuse("a service caller must be named by its service name")
            return service_caller(subject)
        if kind is CallerKind.CLIENT:
            return client_caller(subject)
        role = claims.get(c.role_claim)
        if not isinstance(role, str) or not role:
            raise _refuse(f"staff token without a {c.role_claim!r} claim")
        return staff_caller(subject, role)


class IdentityVerifier:
    """Verifies callers' tokens against the trusted issuers, for one audience (this service)."""

    def __init__(
        self,
        issuers: Sequence[TrustedIssuer],
        *,
        audience: str,
        leeway_seconds: float = 30.0,
    ):
        if not audience:
            raise ValueError("identity audience is empty")
        self.audience = audience
        self._leeway = leeway_seconds
        self._issuers: dict[str, _Issuer] = {}
        for config in issuers:
            if config.issuer in self._issuers:
                raise ValueError(f"issuer {config.issuer!r} is configured twice")
            self._issuers[config.issuer] = _Issuer(config)
        # Verified tokens by their exact text, with their expiry: a caller reuses its token for minutes, so the
        # signature is checked once rather than on every call. Bounded; a refused token is never cached.
        self._verified: dict[str, tuple[Caller, float]] = {}

    @property
    def issuers(self) -> list[str]:
        return list(self._issuers)

    def verify(self, token: str) -> Caller:
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[1]:  # real time and leeway, as PyJWT
            return cached[0]
        caller, expires = self._verify(token)
        if len(self._verified) >= 4096:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller

    def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _refuse("not a signed JWT") from None
        iss = unverified.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise _refuse("not from an issuer this service trusts")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _refuse("no key id (kid) in its header")
        key = issuer.keys.key(kid)
        # The algorithm is the key's (its JWK `alg`, or its type and curve), and must be one the issuer is pinned
        # to; PyJWT refuses a token whose header names any other (HS256 made with the public key, `none`).
        if key.algorithm_name not in issuer.config.algorithms:
            raise _refuse("signed with an algorithm its issuer is not trusted for")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=issuer.config.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise _refuse(str(exc)) from None
        return issuer.caller(claims), float(claims["exp"]) + self._leeway

    def caller_from_metadata(self, metadata: Iterable[tuple[str, Any]] | None) -> Caller:
        for key, value in metadata or ():
            if key == METADATA_KEY:
                scheme, _, token = str(value).partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated(
                        "authorization metadata must be 'Bearer <token>'",
                        reason="AUTHORIZATION_MALFORMED",
                    )
                return self.verify(token)
        raise Unauthenticated(
            "missing caller identity: send 'authorization: Bearer <token>' metadata",
            reason="IDENTITY_MISSING",
        )


# -- this service's own tokens, for the services it calls --------------------------------------------------------


class TokenSource(abc.ABC):
    """The token this service sends to one audience (the client interceptor asks it on every call)."""

    @abc.abstractmethod
    def token(self) -> str: ...

    def metadata(self) -> tuple[str, str]:
        return (METADATA_KEY, f"Bearer {self.token()}")


class TokenFile(TokenSource):
    """A token that the platform writes and rotates in a file: a projected ServiceAccount token on Kubernetes
    (the kubelet replaces it well before it expires), the local issuer's on a developer's machine. Re-read when the
    file changes, and at least every `recheck_seconds` in case a change kept its size and time stamp."""

    def __init__(self, path: Path, *, audience: str, recheck_seconds: float = 60.0):
        self.path, self.audience = path, audience
        self._recheck = recheck_seconds
        self._token = ""
        self._stamp: tuple[int, int, int] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            now = time.monotonic()
            try:
                st = os.stat(self.path)  # follows the kubelet's ..data symlink to the current file
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
                if stamp != self._stamp or now >= self._read_at + self._recheck:
                    self._token = self.path.read_text().strip()
                    self._stamp, self._read_at = stamp, now
            except OSError as exc:
                log.warning(
                    "no identity token for an outbound call", path=str(self.path), error=str(exc)
                )
                raise Unavailable(
                    f"no identity token for calls to {self.audience}",
                    reason="OUTBOUND_TOKEN_MISSING",
                ) from None
            if not self._token:
                raise Unavailable(
                    f"no identity token for calls to {self.audience}",
                    reason="OUTBOUND_TOKEN_MISSING",
                )
            return self._token


class _NoToken(TokenSource):
    def __init__(self, audience: str):
        self.audience = audience

    def token(self) -> str:
        log.warning("no identity token directory configured", audience=self.audience)
        raise Unavailable(
            f"no identity token for calls to {self.audience}", reason="OUTBOUND_TOKEN_MISSING"
        )


class TokenDirectory:
    """Where a service finds its tokens for the services it calls: `<directory>/<audience>`, one file each."""

    def __init__(self, directory: Path | None):
        self.directory = directory

    def source(self, audience: str) -> TokenSource:
        if self.directory is None:
            return _NoToken(audience)
        return TokenFile(self.directory / audience, audience=audience)

    def missing(self, audiences: Iterable[str]) -> list[str]:
        """The audiences without a token file (for a warning at start-up)."""
        if self.directory is None:
            return list(audiences)
        return [a for a in audiences if not (self.directory / a).is_file()]
