"""A local token issuer for `make run`, the tools and the tests: what the OIDC provider and the cluster's
ServiceAccount issuer are on Kubernetes, on one machine.

It holds an EC P-256 key pair in a directory (`issuer-key.pem`, readable by its owner only, and `jwks.json`, the
public key the services are pointed at), mints ES256 tokens for any caller and audience, and writes each service's
outbound tokens (`<token dir>/<audience>`) as the kubelet writes projected ServiceAccount tokens. The services only
ever see the JWKS: none of them holds the private key.

    python -m cms_devkit.issuer var/identity staff dev-caseworker caseworker   # a token from `make run`'s issuer
    python -m cms_devkit.issuer var/k8s-issuer --new staff dev-1 team_leader   # a new issuer (a dev cluster's)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from cms_platform.identity import Caller, CallerKind, client_caller, service_caller, staff_caller

# The five services, by name: each is its own audience.
SERVICES = ("calculation", "casework", "hmrc-gateway", "dwp-gateway", "cra-gateway")
ISSUER = "https://issuer.cms.localhost"
KEY_FILE = "issuer-key.pem"
JWKS_FILE = "jwks.json"


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 key id: the SHA-256 of the key's required members."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def _write(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Atomically (write aside, then rename), so a reader never sees half a file."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(aside, path)


class LocalIssuer:
    """An ES256 issuer whose key lives in `directory`."""

    def __init__(
        self, directory: Path, key: ec.EllipticCurvePrivateKey, *, issuer: str = ISSUER
    ) -> None:
        self.directory = directory
        self.issuer = issuer
        self._key = key
        public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.kid = _thumbprint(public)
        self.jwks = {"keys": [{**public, "kid": self.kid, "alg": "ES256", "use": "sig"}]}

    @classmethod
    def create(cls, directory: Path, *, issuer: str = ISSUER) -> LocalIssuer:
        """A new key pair, written to `directory` (the private key readable by its owner only)."""
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write(directory / KEY_FILE, pem.decode(), mode=0o600)
        made = cls(directory, key, issuer=issuer)
        _write(directory / JWKS_FILE, json.dumps(made.jwks, indent=2))
        return made

    @classmethod
    def load(cls, directory: Path, *, issuer: str = ISSUER) -> LocalIssuer:
        """The issuer `create` left in `directory` (e.g. `make run`'s, for a tool that calls its services)."""
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{directory / KEY_FILE} is not an EC private key")
        return cls(directory, key, issuer=issuer)

    @property
    def jwks_file(self) -> Path:
        return self.directory / JWKS_FILE

    def trusted(self) -> dict[str, Any]:
        """This issuer as a service's settings trust it (an entry of `identity_issuers`): for every kind of caller."""
        return {
            "issuer": self.issuer,
            "jwks_file": str(self.jwks_file),
            "algorithms": ["ES256"],
            "kinds": [str(k) for k in CallerKind],
        }

    def mint(self, caller: Caller, *, audience: str | Sequence[str], ttl: float = 300.0) -> str:
        """A token for `caller`, valid at `audience` (a service name, or several) for `ttl` seconds."""
        now = int(time.time())  # token lifetimes are real time, never the business clock
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": caller.subject,
            "kind": str(caller.kind),
            "aud": audience if isinstance(audience, str) else list(audience),
            "iat": now,
            "exp": now + int(ttl),
        }
        if caller.role:
            claims["role"] = caller.role
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})

    def write_service_tokens(
        self, service: str, token_dir: Path, audiences: Iterable[str], *, ttl: float = 3600.0
    ) -> None:
        """`service`'s tokens for the services it calls, one file per audience, as the kubelet writes projected
        ServiceAccount tokens; call it again before `ttl` runs out (the service re-reads a changed file)."""
        token_dir.mkdir(parents=True, exist_ok=True)
        for audience in audiences:
            token = self.mint(service_caller(service), audience=audience, ttl=ttl)
            _write(token_dir / audience, token, mode=0o600)

    def service_env(self, prefix: str, *, token_dir: Path | None = None) -> dict[str, str]:
        """The environment that points a service (by its settings prefix) at this issuer and its token dir."""
        env = {f"{prefix}IDENTITY_ISSUERS": json.dumps([self.trusted()])}
        if token_dir is not None:
            env[f"{prefix}IDENTITY_TOKEN_DIR"] = str(token_dir)
        return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cms_devkit.issuer",
        description="Print a token from a local issuer (e.g. var/identity, which `make run` creates).",
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--new", action="store_true", help="make a new key pair in the directory first"
    )
    parser.add_argument("kind", choices=[str(k) for k in CallerKind])
    parser.add_argument("subject", help="staff id, client id or service name")
    parser.add_argument("role", nargs="?", default="", help="staff only, e.g. caseworker")
    parser.add_argument("--audience", action="append", help="default: every service")
    parser.add_argument("--ttl", type=float, default=8 * 3600.0, help="seconds (default 8 hours)")
    args = parser.parse_args(argv)
    kind = CallerKind(args.kind)
    if kind is CallerKind.STAFF and not args.role:
        parser.error("a staff token needs a role")
    caller = (
        staff_caller(args.subject, args.role)
        if kind is CallerKind.STAFF
        else service_caller(args.subject)
        if kind is CallerKind.SERVICE
        else client_caller(args.subject)
    )
    issuer = (LocalIssuer.create if args.new else LocalIssuer.load)(args.directory)
    print(issuer.mint(caller, audience=args.audience or SERVICES, ttl=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
