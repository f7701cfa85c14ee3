"""cms_devkit.stack's replicas: another process of a service gets the service's database, broker and tokens, a port
and settings of its own, and leaves the database's migration to the first process."""

from __future__ import annotations

from cms_devkit.issuer import LocalIssuer
from cms_devkit.stack import Stack

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _stack(tmp_path) -> Stack:
    return Stack(
        var=tmp_path,
        bootstrap="127.0.0.1:19092",
        addresses={"calculation": "127.0.0.1:17001", "casework": "127.0.0.1:17002"},
        issuer=LocalIssuer.create(tmp_path / "identity"),
        postgres=PG,
        inherit=False,
        extra={"LOG_LEVEL": "WARNING"},
        own={"casework": {"METRICS_PORT": "19101"}},
    )


def test_a_replica_shares_the_services_database_broker_and_tokens_on_a_port_of_its_own(tmp_path):
    stack = _stack(tmp_path)
    first = stack.env("casework")
    name = stack.add_replica("casework", {"METRICS_PORT": "19102"})
    third = stack.add_replica("casework")
    replica = stack.env(name)

    assert (name, third) == ("casework-2", "casework-3")
    assert stack.service_of(name) == "casework"
    for key in (
        "CASEWORK_DATABASE_URL",
        "CASEWORK_KAFKA_BOOTSTRAP_SERVERS",
        "CASEWORK_IDENTITY_TOKEN_DIR",
        "CASEWORK_IDENTITY_ISSUERS",
        "CASEWORK_CALCULATION_ADDRESS",
        "CASEWORK_LOG_LEVEL",
    ):
        assert replica[key] == first[key], key
    ports = {stack.env(n)["CASEWORK_GRPC_PORT"] for n in ("casework", name, third)}
    assert len(ports) == 3
    assert stack.addresses[name].endswith(":" + replica["CASEWORK_GRPC_PORT"])
    assert (first["CASEWORK_METRICS_PORT"], replica["CASEWORK_METRICS_PORT"]) == ("19101", "19102")
    assert "CASEWORK_METRICS_PORT" not in stack.env(third)
    assert replica["CASEWORK_MIGRATE_ON_START"] == "false"
    assert "CASEWORK_MIGRATE_ON_START" not in first
    assert stack.log_path(name) != stack.log_path("casework")


def test_adding_a_replica_leaves_the_other_services_as_they_were(tmp_path):
    stack = _stack(tmp_path)
    before = stack.env("calculation")
    stack.add_replica("casework")
    assert stack.env("calculation") == before
    assert "CALCULATION_METRICS_PORT" not in before
