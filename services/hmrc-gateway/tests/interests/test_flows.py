"""The feeds end to end: interests registered and removed through the real gRPC server, life events applied
through the scenario admin service, the scheduler's pass as the clock moves (interests.flows.run_due), and the
events read back from a real broker (keyed by interest, each once). Jordan Kellaway is scripted in conftest.py.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import events_pb2 as ev
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as sc_grpc
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_devkit.testing import read_topic, wait_until
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_hmrc_gateway.interests import flows as feeds
from cms_platform import events

NINO = "JK123456C"
MATCHED, PARTIAL, NOT_FOUND = (
    common.MATCH_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND,
)


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def identity(
    nino: str = NINO, forenames: str = "Jordan", surname: str = "Kellaway", dob=(1984, 7, 1)
):
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=d(*dob),
    )


def call(stub_method, request, creds):
    return stub_method(request, metadata=creds.staff(), timeout=10)


def admin_call(stub_method, request, creds):
    """A scenario (test-data) call: only the scenario_admin role may make one."""
    return stub_method(
        request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
    )


def _events(bootstrap: str, expected: int, timeout: float = 20.0) -> list[tuple[str, object]]:
    """This suite's events: its cases are named "case-…" (other suites' cases, e.g. casework's, share the broker)."""
    types = events.by_type(events.declared_in(ev))
    out = []
    for record in read_topic(bootstrap, events.topic_of(ev.AnnualIncomeUpdated), expected, timeout):
        headers = {k: v.decode() for k, v in record.headers}
        event = types[headers["ce_type"]].FromString(record.value)
        if event.case_id.startswith("case-"):
            # An outside consumer sees the interest's resource name as the key and a URI as the dataschema.
            assert record.key == f"interests/{event.interest_id}".encode()
            assert headers["ce_dataschema"] == (
                "https://schemas.cms.gov.uk/protos/cms/hmrc/v1/events.proto#"
                + event.DESCRIPTOR.full_name
            )
            out.append((headers["ce_id"], event))
    return out


def test_feeds_publish_only_for_interested_cases(hmrc_with_broker, creds):
    service, gw, scenario, bootstrap = hmrc_with_broker

    def register(nino, case_id, interest_type, **params):
        return call(
            gw.RegisterInterest,
            api.RegisterInterestRequest(
                request_id=str(uuid.uuid4()),
                person=identity(nino),
                case_id=case_id,
                interest_type=interest_type,
                **params,
            ),
            creds,
        )

    deo = register(
        NINO,
        "case-1",
        pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
        deduction_from_earnings=pb.DeductionFromEarningsParameters(
            deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
        ),
    )
    assert deo.match.outcome == MATCHED and deo.interest.state == pb.INTEREST_STATE_ACTIVE
    register(
        NINO,
        "case-1",
        pb.INTEREST_TYPE_RTI_CURRENT_INCOME,
        rti_current_income=pb.RtiCurrentIncomeParameters(baseline_weekly_income_pence=690_00),
    )
    with pytest.raises(grpc.RpcError) as err:  # the same interest again under a new request id
        register(NINO, "case-1", pb.INTEREST_TYPE_RTI_CURRENT_INCOME)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    removed = register(
        "JK222222C",
        "case-2",
        pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
        deduction_from_earnings=pb.DeductionFromEarningsParameters(
            deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
        ),
    )
    call(
        gw.RemoveInterest,
        api.RemoveInterestRequest(
            request_id=str(uuid.uuid4()), interest_id=removed.interest.interest_id
        ),
        creds,
    )

    # A pay rise of 50% from 1 January and, for the other person (no active interest), a job loss.
    rise = admin_call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 1, 1),
            pay_change=sc.PayChange(employment_id="acme", new_annual_taxable_pay_pence=54_000_00),
        ),
        creds,
    )
    quiet = admin_call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino="JK222222C",
            effective_date=d(2026, 3, 31),
            job_loss=sc.JobLoss(employment_id="acme"),
        ),
        creds,
    )
    assert quiet.queued_events == []  # no interest, no broadcast
    lost = admin_call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 4, 1),
            job_loss=sc.JobLoss(employment_id="acme"),
        ),
        creds,
    )
    assert [q.event_type.rsplit(".", 2)[-2] for q in rise.queued_events] == [
        "rti_current_income_changed"
    ]
    assert "deo_employment_changed" in [q.event_type.rsplit(".", 2)[-2] for q in lost.queued_events]

    events = _events(bootstrap, expected=5)
    kinds = [type(e).__name__ for _, e in events]
    # employer details for each case as its DEO interest started ...
    assert sorted(
        e.case_id
        for _, e in events
        if isinstance(e, ev.DeductionFromEarningsEmployerDetailsProvided)
    ) == ["case-1", "case-2"]
    assert kinds.count("RtiCurrentIncomeChanged") >= 1 and kinds.count("DeoEmploymentChanged") == 1
    # ... and nothing more for case-2 once its interest was removed, although its person lost their job
    assert all(
        e.case_id == "case-1"
        for _, e in events
        if not isinstance(e, ev.DeductionFromEarningsEmployerDetailsProvided)
    )
    assert len({ce_id for ce_id, _ in events}) == len(events)
    changed = next(e for _, e in events if isinstance(e, ev.DeoEmploymentChanged))
    assert (
        changed.change_kind == ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_ENDED
        and changed.change_date == d(2026, 4, 1)
    )
    rti = next(e for _, e in events if isinstance(e, ev.RtiCurrentIncomeChanged))
    assert rti.change_basis_points >= 2500 and rti.previous_weekly_income_pence == 690_00


def test_annual_income_and_child_benefit_feeds_follow_the_clock(hmrc_with_broker, creds, clock):
    import datetime as dt

    service, gw, scenario, bootstrap = hmrc_with_broker
    call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            person=identity(),
            case_id="case-9",
            interest_type=pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE,
            annual_income_update=pb.AnnualIncomeUpdateParameters(annual_review_date=d(2024, 5, 20)),
        ),
        creds,
    )
    call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            person=identity(),
            case_id="case-9",
            interest_type=pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE,
        ),
        creds,
    )
    assert (
        feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 0
    )  # due from 20 April
    clock.advance(dt.timedelta(days=14))  # 20 April 2026: 30 days before the 20 May anniversary
    assert feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 1
    assert (
        feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 0
    )  # once only
    ella = pb.ChildIdentity(
        name=common.PersonName(forenames="Ella", surname="Kellaway"), date_of_birth=d(2009, 3, 2)
    )
    admin_call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 4, 15),
            child_leaves_education=sc.ChildLeavesEducation(child=ella),
        ),
        creds,
    )
    events = [e for _, e in _events(bootstrap, expected=2)]
    annual = next(e for e in events if isinstance(e, ev.AnnualIncomeUpdated))
    assert (annual.annual_review_date, annual.tax_year, annual.gross_income_pence) == (
        d(2026, 5, 20),
        "2024-25",
        39_000_00,
    )
    ended = next(e for e in events if isinstance(e, ev.ChildBenefitEndDateNotified))
    assert ended.child_status.end_date == d(2026, 5, 31)  # the next quarter-end terminal date
    assert ended.child_status.end_reason == pb.CHILD_BENEFIT_END_REASON_LEFT_APPROVED_EDUCATION


def test_feeds_survive_a_broker_that_restarts_empty(start_service, creds, clock, scripted_person):
    """Tansu keeps messages in memory: a restart loses them. Events queued while the broker is down are sent when it
    is back, and `replay-outbox` re-sends what the broker lost; every copy carries its CloudEvents id, so an
    idempotent consumer group applies each event once."""
    import datetime as dt
    import time

    from cms_devkit import infra
    from cms_platform import outbox
    from cms_platform.models import OutboxEvent

    port = infra.free_port()
    broker = infra.start_tansu(port)
    try:
        service, channel = start_service(
            HmrcGatewayService,
            db_name="hmrc-restart",
            kafka=broker.bootstrap,
            population_size=10_000,
            feed_check_interval_seconds=0,
        )
        gw, scenario = (
            api_grpc.HmrcGatewayServiceStub(channel),
            sc_grpc.HmrcScenarioServiceStub(channel),
        )
        admin_call(
            scenario.UpsertPerson,
            sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person()),
            creds,
        )
        call(
            gw.RegisterInterest,
            api.RegisterInterestRequest(
                request_id=str(uuid.uuid4()),
                person=identity(),
                case_id="case-r",
                interest_type=pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
                deduction_from_earnings=pb.DeductionFromEarningsParameters(
                    deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
                ),
            ),
            creds,
        )
        before = _events(broker.bootstrap, expected=1)
        assert len(before) == 1

        broker.stop()  # the broker and everything it held are gone
        admin_call(
            scenario.ApplyLifeEvent,
            sc.ApplyLifeEventRequest(
                request_id=str(uuid.uuid4()),
                nino=NINO,
                effective_date=d(2026, 4, 1),
                job_loss=sc.JobLoss(employment_id="acme"),
            ),
            creds,
        )
        time.sleep(1)
        with service.sessions() as s:  # queued, not lost, while nothing can take it
            assert s.query(OutboxEvent).filter(OutboxEvent.published_at.is_(None)).count() == 1

        broker = infra.start_tansu(port)
        assert outbox.replay(service.sessions, since=clock.now() - dt.timedelta(days=1)) >= 1

        def all_sent() -> bool:
            with service.sessions() as s:
                waiting = s.query(OutboxEvent).filter(OutboxEvent.published_at.is_(None)).count()
                return waiting == 0

        # Read once the relay has sent them: a reader that came first would make the broker create the topic its
        # own way, which the relay then recreates with the declared partitions under the reader.
        wait_until(all_sent, timeout=40, what="the outbox to be sent again")
        after = _events(broker.bootstrap, expected=2, timeout=40)
        ids = [ce_id for ce_id, _ in after]
        assert set(ids) == {before[0][0]} | {
            ce_id for ce_id, e in after if isinstance(e, ev.DeoEmploymentChanged)
        }
        assert (
            len(set(ids)) == 2
        )  # the lost event and the one queued while down, each under its own id
    finally:
        broker.stop()
