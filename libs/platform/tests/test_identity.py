"""Caller identity (cms_platform.identity): tokens from trusted issuers, verified with their public keys for this
service's audience, through a real gRPC server where the status matters; and the outbound token files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit.issuer import LocalIssuer
from cms_platform.clients import open_channel
from cms_platform.errors import Unauthenticated, Unavailable
from cms_platform.identity import (
    CallerKind,
    IdentityVerifier,
    TokenDirectory,
    TokenFile,
    TrustedIssuer,
    current_caller,
    service_caller,
    staff_caller,
)
from cms_platform.server import GrpcServer, ServiceRegistration
from cms_platform.settings import ServiceSettings

AUDIENCE = "calculation"
USERS = "https://login.example.test/realms/cms"
CLUSTER = "https://kubernetes.default.svc.cluster.local"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    """An issuer's key pair for the tests: writes its JWKS, signs any claims with any header."""

    def __init__(self, directory: Path, *, kind: str = "ec", kid: str = "key-1"):
        self.key: Any = (
            ec.generate_private_key(ec.SECP256R1())
            if kind == "ec"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self.alg = "ES256" if kind == "ec" else "RS256"
        self.kid = kid
        public = (ECAlgorithm if kind == "ec" else RSAAlgorithm).to_jwk(
            self.key.public_key(), as_dict=True
        )
        self.jwk = {**public, "kid": kid, "use": "sig", "alg": self.alg}
        directory.mkdir(parents=True, exist_ok=True)
        self.jwks_file = directory / f"{kid}-{kind}.json"
        self.jwks_file.write_text(json.dumps({"keys": [self.jwk]}))

    def sign(self, claims: dict[str, Any], *, kid: bool = True) -> str:
        return jwt.encode(
            claims, self.key, algorithm=self.alg, headers={"kid": self.kid} if kid else None
        )

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def claims(
    iss: str = USERS, *, aud: Any = AUDIENCE, ttl: int = 300, **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": iss, "sub": "s-1", "kind": "staff", "role": "caseworker", "aud": aud}
    return {**base, "iat": now, "exp": now + ttl, **extra}


def unsigned(header: dict[str, Any], body: dict[str, Any], key: bytes | None = None) -> str:
    """A token made by hand: HMAC-SHA256 with `key`, or no signature at all."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


@pytest.fixture
def users(tmp_path: Path) -> Keys:
    return Keys(tmp_path)


@pytest.fixture
def cluster(tmp_path: Path) -> Keys:
    return Keys(tmp_path, kind="rsa", kid="sa-key")


@pytest.fixture
def issuers(users: Keys, cluster: Keys) -> list[TrustedIssuer]:
    """Production's shape: an OIDC provider for staff and clients, the cluster's issuer for services."""
    return [
        TrustedIssuer(issuer=USERS, jwks_file=users.jwks_file, kinds=("staff", "client")),
        TrustedIssuer(
            issuer=CLUSTER,
            jwks_file=cluster.jwks_file,
            algorithms=("RS256",),
            kinds=("service",),
            subjects="kubernetes",
            namespaces=("cms",),
        ),
    ]


@pytest.fixture
def verifier(issuers: list[TrustedIssuer]) -> IdentityVerifier:
    return IdentityVerifier(issuers, audience=AUDIENCE)


class _Echo(api_grpc.CalculationServiceServicer):
    """Answers GetRuleSet with the caller the server bound."""

    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        return pb.RuleSet(name=current_caller().describe())


REFUSED: list[str] = []


@pytest.fixture
def server(verifier: IdentityVerifier) -> Iterator[int]:
    full_name = api.DESCRIPTOR.services_by_name["CalculationService"].full_name
    REFUSED.clear()
    srv = GrpcServer(
        service="calculation",
        registrations=[
            ServiceRegistration(
                full_name,
                api_grpc.add_CalculationServiceServicer_to_server,
                _Echo(),
                # GetRuleSet admits no client: the access check, after authentication, sees who it refuses.
                refused=lambda method, request: REFUSED.append(current_caller().describe()),
            )
        ],
        identity=verifier,
        host="127.0.0.1",
        port=0,
    )
    port = srv.start()
    srv.set_ready(True)
    yield port
    srv.stop(0)


def call(port: int, token: str) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = api_grpc.CalculationServiceStub(channel).GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/x"),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
    return answer.name


# -- through the server ------------------------------------------------------------------------------------------


def test_staff_and_projected_service_account_tokens_are_accepted(server, users, cluster):
    assert call(server, users.sign(claims())) == "staff:s-1(caseworker)"
    with pytest.raises(grpc.RpcError) as refused:
        call(server, users.sign(claims(kind="client", sub="client-9", role="")))
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert REFUSED == ["client:client-9"]
    # What the kubelet mounts for casework's pod with `audience: calculation`.
    now = int(time.time())
    projected = {
        "aud": ["calculation"],
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "iss": CLUSTER,
        "jti": "4b5f5c2e-1d3a-4c53-9a0e-0d2f6c1e5b7a",
        "kubernetes.io": {
            "namespace": "cms",
            "node": {"name": "node-1", "uid": "0f7c"},
            "pod": {"name": "casework-7d9f8b6c5d-x2x9z", "uid": "9b1e"},
            "serviceaccount": {"name": "casework", "uid": "5c2a"},
        },
        "sub": "system:serviceaccount:cms:casework",
    }
    assert call(server, cluster.sign(projected)) == "service:casework"


FORGERIES = {
    # id: (how the token is made from the users' keys u, the cluster's c, a forger's directory t; why it fails)
    "another audience": (
        lambda u, c, t: u.sign(claims(aud="hmrc-gateway")),
        "Audience doesn't match",
    ),
    "no audience": (lambda u, c, t: u.sign({**claims(), "aud": None}), '"aud"'),
    "another key, same kid": (
        lambda u, c, t: Keys(t, kid="key-1").sign(claims()),
        "Signature verification failed",
    ),
    "unknown key id": (
        lambda u, c, t: Keys(t, kid="key-2").sign(claims()),
        "a key the issuer does not hold",
    ),
    "no key id": (lambda u, c, t: u.sign(claims(), kid=False), "no key id"),
    "HS256 with the public key (PEM)": (
        lambda u, c, t: unsigned({"alg": "HS256", "kid": "key-1"}, claims(), u.public_pem()),
        "alg value is not allowed",
    ),
    "HS256 with the public key (JWK)": (
        lambda u, c, t: unsigned(
            {"alg": "HS256", "kid": "key-1"}, claims(), json.dumps(u.jwk).encode()
        ),
        "alg value is not allowed",
    ),
    "alg none": (
        lambda u, c, t: unsigned({"alg": "none", "kid": "key-1"}, claims()),
        "alg value is not allowed",
    ),
    "no exp": (
        lambda u, c, t: u.sign({k: v for k, v in claims().items() if k != "exp"}),
        '"exp"',
    ),
    "expired beyond the leeway": (lambda u, c, t: u.sign(claims(ttl=-60)), "expired"),
    "issued in the future": (
        lambda u, c, t: u.sign(claims(iat=int(time.time()) + 120)),
        "not yet valid (iat)",
    ),
    "unknown issuer": (
        lambda u, c, t: u.sign(claims(iss="https://login.example.test/realms/other")),
        "not from an issuer this service trusts",
    ),
    "a service token from the user issuer": (
        lambda u, c, t: u.sign(claims(kind="service", sub="casework", role="")),
        "may not vouch for service callers",
    ),
    "staff without a role": (lambda u, c, t: u.sign(claims(role="")), "without a 'role'"),
    "an unknown kind": (lambda u, c, t: u.sign(claims(kind="admin")), "no valid 'kind'"),
    "a ServiceAccount of another namespace": (
        lambda u, c, t: c.sign(claims(CLUSTER, sub="system:serviceaccount:other:casework")),
        "a ServiceAccount this service does not trust",
    ),
    "a cluster token that is not a ServiceAccount's": (
        lambda u, c, t: c.sign(claims(CLUSTER, sub="casework", kind="service")),
        "not a ServiceAccount subject",
    ),
    "garbage": (lambda u, c, t: "not-a-jwt", "not a signed JWT"),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_or_misdirected_tokens_are_unauthenticated(
    server, users, cluster, tmp_path, forgery
):
    forge, why = FORGERIES[forgery]
    with pytest.raises(grpc.RpcError) as err:
        call(server, forge(users, cluster, tmp_path / "forger"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert why in err.value.details()


def test_an_issuer_is_pinned_to_its_algorithms(users):
    """A key of another algorithm in the issuer's JWKS is not used, whatever the token says."""
    pinned = TrustedIssuer(
        issuer=USERS, jwks_file=users.jwks_file, algorithms=("RS256",), kinds=("staff",)
    )
    with pytest.raises(Unauthenticated, match="algorithm its issuer is not trusted for"):
        IdentityVerifier([pinned], audience=AUDIENCE).verify(users.sign(claims()))
    eddsa = TrustedIssuer(
        issuer=USERS, jwks_file=users.jwks_file, algorithms=("EdDSA", "ES256"), kinds=("staff",)
    )
    assert IdentityVerifier([eddsa], audience=AUDIENCE).verify(users.sign(claims())).role == (
        "caseworker"
    )


def test_clock_skew_is_bounded_by_the_leeway(users, issuers):
    lenient = IdentityVerifier(issuers, audience=AUDIENCE, leeway_seconds=30)
    assert lenient.verify(users.sign(claims(ttl=-10))).subject == "s-1"  # 10 s late: within 30
    with pytest.raises(Unauthenticated):
        lenient.verify(users.sign(claims(ttl=-40)))
    with pytest.raises(Unauthenticated):
        IdentityVerifier(issuers, audience=AUDIENCE, leeway_seconds=0).verify(
            users.sign(claims(ttl=-10))
        )
    assert lenient.verify(users.sign(claims(iat=int(time.time()) + 10))).subject == "s-1"


def test_claim_names_are_the_issuers_to_choose(users):
    """An OIDC provider that names things its own way; one that vouches for one kind need not say which."""
    workforce = TrustedIssuer(
        issuer=USERS,
        jwks_file=users.jwks_file,
        kinds=("staff",),
        subject_claim="preferred_username",
        role_claim="cms_role",
    )
    verifier = IdentityVerifier([workforce], audience=AUDIENCE)
    token = users.sign(
        {
            "iss": USERS,
            "sub": "f3c1a9e0",
            "preferred_username": "tl-7",
            "cms_role": "team_leader",
            "aud": [AUDIENCE, "account"],
            "exp": int(time.time()) + 60,
        }
    )
    assert verifier.verify(token) == staff_caller("tl-7", "team_leader")


def test_a_key_added_to_the_jwks_file_is_picked_up(users, issuers, tmp_path):
    verifier = IdentityVerifier(issuers, audience=AUDIENCE)
    rotated = Keys(tmp_path, kid="key-2")
    with pytest.raises(Unauthenticated):
        verifier.verify(rotated.sign(claims()))
    users.jwks_file.write_text(json.dumps({"keys": [users.jwk, rotated.jwk]}))
    os.utime(users.jwks_file, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert verifier.verify(rotated.sign(claims())).subject == "s-1"


class _Jwks(http.server.BaseHTTPRequestHandler):
    """The API server's /openid/v1/jwks: answers only with the bearer token it expects."""

    jwks: dict[str, Any] = {}
    expected = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization") != f"Bearer {self.expected}":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(self.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_cluster_keys_come_from_a_jwks_url_with_the_pods_own_rotated_token(cluster, tmp_path):
    _Jwks.jwks, _Jwks.expected, _Jwks.seen = {"keys": [cluster.jwk]}, "pod-token-1", []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    token_file = tmp_path / "kube-api-token"
    token_file.write_text("pod-token-1\n")
    try:
        config = TrustedIssuer(
            issuer=CLUSTER,
            jwks_url=f"http://127.0.0.1:{httpd.server_address[1]}/openid/v1/jwks",
            jwks_token_file=token_file,
            algorithms=("RS256",),
            kinds=("service",),
            subjects="kubernetes",
            namespaces=("cms",),
        )
        verifier = IdentityVerifier([config], audience=AUDIENCE)
        token = cluster.sign(claims(CLUSTER, sub="system:serviceaccount:cms:casework"))
        assert verifier.verify(token) == service_caller("casework")
        assert _Jwks.seen == ["Bearer pod-token-1"]

        # The kubelet rotated the pod's token: the next fetch sends the new one.
        token_file.write_text("pod-token-2")
        _Jwks.expected = "pod-token-2"
        IdentityVerifier([config], audience=AUDIENCE).verify(token)
        assert _Jwks.seen[-1] == "Bearer pod-token-2"

        # Keys that cannot be fetched are a dependency down (retry), not a verdict on the caller.
        _Jwks.expected = "something else"
        with pytest.raises(Unavailable):
            IdentityVerifier([config], audience=AUDIENCE).verify(token)
    finally:
        httpd.shutdown()


def test_issuers_are_configured_consistently(users):
    with pytest.raises(ValidationError):  # neither or both key sources
        TrustedIssuer(issuer=USERS, kinds=("staff",))
    with pytest.raises(ValidationError):
        TrustedIssuer(
            issuer=USERS, jwks_file=users.jwks_file, algorithms=("HS256",), kinds=("staff",)
        )
    with pytest.raises(
        ValidationError
    ):  # a Kubernetes issuer vouches for services, in named namespaces
        TrustedIssuer(
            issuer=CLUSTER, jwks_file=users.jwks_file, kinds=("staff",), subjects="kubernetes"
        )
    with pytest.raises(ValidationError):
        TrustedIssuer(
            issuer=CLUSTER, jwks_file=users.jwks_file, kinds=("service",), subjects="kubernetes"
        )
    with pytest.raises(ValidationError):  # a typo is an error, not a silently ignored setting
        TrustedIssuer(issuer=USERS, jwks_file=users.jwks_file, kinds=("staff",), role_clam="r")


def test_settings_read_the_issuers_from_the_environment(monkeypatch, users):
    class Settings(ServiceSettings):
        service_name = "casework"
        model_config = {**ServiceSettings.model_config, "env_prefix": "T_"}

    issuer = {"issuer": USERS, "jwks_file": str(users.jwks_file), "kinds": ["staff", "client"]}
    monkeypatch.setenv("T_IDENTITY_ISSUERS", json.dumps([issuer]))
    settings = Settings()
    assert settings.identity_issuers[0].kinds == (CallerKind.STAFF, CallerKind.CLIENT)
    assert settings.identity_issuers[0].algorithms == ("ES256",)
    assert settings.audience == "casework" and settings.identity_leeway_seconds == 30
    monkeypatch.setenv("T_IDENTITY_AUDIENCE", "cms-casework")
    assert Settings().audience == "cms-casework"
    # Production refuses to start without trusted issuers (every call would be refused).
    monkeypatch.delenv("T_IDENTITY_ISSUERS")
    monkeypatch.setenv("T_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="identity_issuers"):
        Settings()


def test_verified_tokens_are_cached_until_they_expire(monkeypatch, users, issuers):
    verifier = IdentityVerifier(issuers, audience=AUDIENCE, leeway_seconds=0)
    token = users.sign(claims(ttl=2))
    checked = []
    real = verifier._verify
    monkeypatch.setattr(verifier, "_verify", lambda t: checked.append(t) or real(t))
    verifier.verify(token)
    verifier.verify(token)
    assert len(checked) == 1  # the signature is checked once
    time.sleep(
        max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.1
    )
    with pytest.raises(Unauthenticated):  # past its expiry it is checked again, and refused
        verifier.verify(token)
    assert len(checked) == 2


def test_metadata_must_be_a_bearer_token(verifier):
    with pytest.raises(Unauthenticated):
        verifier.caller_from_metadata([("authorization", "Basic abc")])
    with pytest.raises(Unauthenticated):
        verifier.caller_from_metadata([])


# -- outbound tokens ---------------------------------------------------------------------------------------------


def _rotate(path: Path, token: str) -> None:
    """As the kubelet does: a new file swapped in under the same name."""
    aside = path.with_name(path.name + ".new")
    aside.write_text(token)
    os.replace(aside, path)


def test_the_token_file_is_read_again_after_rotation(tmp_path):
    path = tmp_path / "calculation"
    _rotate(path, "token-1\n")
    source = TokenFile(path, audience="calculation", recheck_seconds=3600)
    assert source.token() == "token-1"
    _rotate(path, "token-2")
    assert source.token() == "token-2"
    assert source.metadata() == ("authorization", "Bearer token-2")
    path.unlink()
    with pytest.raises(Unavailable, match="calculation"):
        source.token()
    with pytest.raises(Unavailable):
        TokenDirectory(None).source("calculation").token()
    assert TokenDirectory(tmp_path).missing(["calculation", "cra-gateway"]) == [
        "calculation",
        "cra-gateway",
    ]


def test_a_service_calls_with_its_token_file_and_follows_its_rotation(server, tmp_path):
    """casework's channel to calculation, through the real server: the local issuer stands in for the cluster's."""
    # The local issuer writes a service's tokens as the kubelet does, each good for its own audience only.
    local = LocalIssuer.create(tmp_path / "issuer")
    trusted = [TrustedIssuer.model_validate(local.trusted())]
    local.write_service_tokens("casework", tmp_path / "tokens", ["calculation"])
    written = (tmp_path / "tokens" / "calculation").read_text()
    assert IdentityVerifier(trusted, audience="calculation").verify(written) == service_caller(
        "casework"
    )
    with pytest.raises(Unauthenticated):
        IdentityVerifier(trusted, audience="dwp-gateway").verify(written)

    # Through the server, which trusts the cluster's issuer: a projected token written by "the kubelet" (the test).
    cluster_like = tmp_path / "projected"
    cluster_like.mkdir()
    full_name = api.DESCRIPTOR.services_by_name["CalculationService"].full_name
    seen: list[str] = []
    keys = Keys(tmp_path, kind="rsa", kid="sa")
    cluster = TrustedIssuer(
        issuer=CLUSTER,
        jwks_file=keys.jwks_file,
        algorithms=("RS256",),
        kinds=("service",),
        subjects="kubernetes",
        namespaces=("cms",),
    )
    srv = GrpcServer(
        service="calculation",
        registrations=[
            ServiceRegistration(
                full_name,
                api_grpc.add_CalculationServiceServicer_to_server,
                _Echo(),
                refused=lambda method, request: seen.append(current_caller().describe()),
            )
        ],
        identity=IdentityVerifier([cluster], audience=AUDIENCE),
        host="127.0.0.1",
        port=0,
    )
    port = srv.start()
    try:
        _rotate(
            cluster_like / "calculation",
            keys.sign(claims(CLUSTER, sub="system:serviceaccount:cms:casework")),
        )
        channel = open_channel(
            f"127.0.0.1:{port}",
            tokens=TokenDirectory(cluster_like).source("calculation"),
            services=[full_name],
        )
        with channel:
            stub = api_grpc.CalculationServiceStub(channel)
            assert stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x")).name == (
                "service:casework"
            )
            _rotate(
                cluster_like / "calculation",
                keys.sign(claims(CLUSTER, sub="system:serviceaccount:cms:casework-canary")),
            )
            # The new file is read: its subject is one GetRuleSet's policy does not admit.
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"))
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
            assert seen == ["service:casework-canary"]
    finally:
        srv.stop(0)
