"""The accounts' stack: casework's own stack, each test's casework reading casework's events in an accounts consumer
group of its own (members another test's stack left behind are slow to leave a shared group)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(autouse=True)
def _own_accounts_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CASEWORK_ACCOUNTS_CONSUMER_GROUP", f"casework-accounts-{uuid.uuid4().hex[:8]}"
    )
