"""The local issuer (cms_devkit.issuer): what `make run`, the tools and the tests mint with, verified by the
platform's own verifier as a service would."""

from __future__ import annotations

import json
import stat

import pytest

from cms_devkit.issuer import SERVICES, LocalIssuer, main
from cms_platform.errors import Unauthenticated
from cms_platform.identity import (
    IdentityVerifier,
    TrustedIssuer,
    client_caller,
    service_caller,
    staff_caller,
)


def verifier(issuer: LocalIssuer, audience: str) -> IdentityVerifier:
    return IdentityVerifier([TrustedIssuer.model_validate(issuer.trusted())], audience=audience)


def test_its_tokens_verify_at_their_audiences_only(tmp_path):
    issuer = LocalIssuer.create(tmp_path)
    token = issuer.mint(staff_caller("s-1", "team_leader"), audience=SERVICES)
    for service in SERVICES:
        assert verifier(issuer, service).verify(token) == staff_caller("s-1", "team_leader")
    one = issuer.mint(client_caller("c-1"), audience="casework")
    assert verifier(issuer, "casework").verify(one) == client_caller("c-1")
    with pytest.raises(Unauthenticated):
        verifier(issuer, "calculation").verify(one)


def test_only_the_public_key_is_readable_by_others_and_a_restart_makes_a_new_one(tmp_path):
    issuer = LocalIssuer.create(tmp_path)
    assert stat.S_IMODE((tmp_path / "issuer-key.pem").stat().st_mode) == 0o600
    (key,) = json.loads(issuer.jwks_file.read_text())["keys"]
    assert "d" not in key and key["kid"] == issuer.kid and key["alg"] == "ES256"
    assert LocalIssuer.load(tmp_path).kid == issuer.kid  # a tool minting with `make run`'s issuer
    token = issuer.mint(staff_caller("s-1"), audience="casework")
    again = LocalIssuer.create(tmp_path)
    assert again.kid != issuer.kid
    with pytest.raises(Unauthenticated):  # the services now trust the new key only
        verifier(again, "casework").verify(token)


def test_service_tokens_are_written_one_file_per_audience(tmp_path):
    issuer = LocalIssuer.create(tmp_path / "issuer")
    issuer.write_service_tokens("casework", tmp_path / "tokens", ["calculation", "cra-gateway"])
    assert sorted(p.name for p in (tmp_path / "tokens").iterdir()) == ["calculation", "cra-gateway"]
    written = (tmp_path / "tokens" / "cra-gateway").read_text()
    assert verifier(issuer, "cra-gateway").verify(written) == service_caller("casework")
    env = issuer.service_env("CASEWORK_", token_dir=tmp_path / "tokens")
    assert json.loads(env["CASEWORK_IDENTITY_ISSUERS"]) == [issuer.trusted()]
    assert env["CASEWORK_IDENTITY_TOKEN_DIR"] == str(tmp_path / "tokens")


def test_the_command_prints_a_token_for_any_caller(tmp_path, capsys):
    assert main([str(tmp_path), "--new", "staff", "dev-1", "scenario_admin"]) == 0
    token = capsys.readouterr().out.strip()
    issuer = LocalIssuer.load(tmp_path)
    assert verifier(issuer, "dwp-gateway").verify(token) == staff_caller("dev-1", "scenario_admin")
    with pytest.raises(SystemExit):
        main([str(tmp_path), "staff", "dev-1"])  # a staff token needs a role
