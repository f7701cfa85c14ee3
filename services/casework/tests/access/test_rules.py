"""Who may see a case (access.rules), without I/O: a personal-interest case exists only for the sensitive-case
workgroup and for services; a client sees only the cases they are on."""

from __future__ import annotations

from dataclasses import dataclass

from cms_casework.access import rules
from cms_platform.identity import client_caller, service_caller, staff_caller


@dataclass
class Case:
    personal_interest: bool = False
    paying_parent_client_id: str = "payer"
    receiving_parent_client_id: str = "receiver"


def test_roles_come_from_the_callers_kind_and_a_staff_members_role():
    assert rules.role_of(client_caller("payer")) == rules.CLIENT
    assert rules.role_of(service_caller("casework-feeds")) == rules.SERVICE
    assert rules.role_of(staff_caller("tl-1", "team_leader")) == rules.TEAM_LEADER


def test_staff_and_services_see_an_ordinary_case():
    for caller in (staff_caller("cw-1"), staff_caller("tl-1", "team_leader"), service_caller("x")):
        assert rules.visible(caller, Case())


def test_a_personal_interest_case_exists_only_for_the_sensitive_workgroup_and_services():
    case = Case(personal_interest=True)
    assert not rules.visible(staff_caller("cw-1"), case)
    assert not rules.visible(staff_caller("tl-1", "team_leader"), case)
    assert not rules.visible(client_caller("payer"), case)
    assert rules.visible(staff_caller("sw-1", rules.SENSITIVE), case)
    assert rules.visible(service_caller("casework-scheduler"), case)


def test_a_client_sees_only_the_cases_they_are_on_with_or_without_the_clients_prefix():
    assert rules.visible(client_caller("payer"), Case())
    assert rules.visible(client_caller("clients/receiver"), Case())
    assert not rules.visible(client_caller("someone-else"), Case())
