"""Case surveillance end to end: alerts when a change lands and as the clock moves, the review date, stopping, and
the events reaching a consumer group exactly once (cms_cra_gateway.surveillance.flows)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import grpc
from google.type import date_pb2

from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import events_pb2 as ev
from cms.cra.v1 import resources_pb2 as pb

from ..conftest import ALEX, TOPIC, alex, basis, code_of, d


def _surveil(cra, case, review=d(2026, 7, 1), kinds=()):
    return cra(
        "StartCaseSurveillance",
        api.StartCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            person=alex(),
            review_date=review,
            watched_kinds=kinds,
        ),
    )


def _message(r):
    kind = dict(r.headers)["ce_type"].decode().split(".")[-2]
    return kind, {
        "alert_raised": ev.CaseSurveillanceAlertRaised,
        "review_due": ev.CaseSurveillanceReviewDue,
        "stopped": ev.CaseSurveillanceStopped,
    }[kind].FromString(r.value)


def _events(bootstrap, case, expected):
    """This case's events: the topic is shared with the module's other tests, so it waits for `expected` of its own."""
    from cms_devkit.testing import read_topic

    out = []
    for r in read_topic(
        bootstrap, TOPIC, expected=expected, where=lambda r: _message(r)[1].case_reference == case
    ):
        kind, message = _message(r)
        # An outside consumer sees the aggregate's resource name as the key and a URI as the dataschema.
        assert r.key == f"case-surveillances/{message.surveillance_id}".encode()
        assert dict(r.headers)["ce_dataschema"].decode() == (
            "https://schemas.cms.gov.uk/protos/cms/cra/v1/events.proto#"
            + message.DESCRIPTOR.full_name
        )
        out.append((dict(r.headers)["ce_id"].decode(), kind, message))
    return out


def test_surveillance_alerts_on_new_findings_then_review_and_stop(cra_with_broker, clock):
    cra, bootstrap = cra_with_broker
    case = f"case-{uuid.uuid4().hex[:8]}"
    watch = _surveil(
        cra,
        case,
        kinds=[
            pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
            pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
            pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS,
        ],
    )
    assert watch.state == pb.CASE_SURVEILLANCE_STATE_ACTIVE and watch.case_reference == case
    err = code_of(lambda: _surveil(cra, case))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS

    # A new bank account: one alert, assessed as a deduction-order lead, in the change's own transaction.
    opened = cra.change(
        add_current_account=pb.CurrentAccount(
            provider_name="Thameside Bank",
            sort_code="30-90-12",
            account_number="41234567",
            holding=pb.ACCOUNT_HOLDING_SOLE,
            balance_pence=2_300_00,
            monthly_turnover=[
                pb.MonthlyTurnover(
                    month=date_pb2.Date(year=2026, month=3), credit_turnover_pence=2_600_00
                )
            ],
        )
    )
    [alert] = opened.raised_alerts
    assert (alert.kind, alert.current_account.account_id) == (
        pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
        opened.created_id,
    )
    assert alert.assessment.rank == 1 and alert.assessment.suggested_action != 0
    # A judgment is not a watched kind here: recorded on the file, no alert.
    assert not cra.change(
        add_public_record=pb.PublicRecord(
            type=pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT, record_date=d(2026, 4, 1)
        )
    ).raised_alerts
    # A new job seen from next month: nothing today; the scheduler finds it when the clock gets there.
    hint = cra.change(
        effective=d(2026, 5, 10),
        add_employment_hint=pb.EmploymentHint(
            employer_name="Aire Valley Foods Ltd",
            source=pb.EMPLOYMENT_HINT_SOURCE_CREDIT_APPLICATION,
        ),
    )
    assert not hint.raised_alerts
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (run.alerts_raised, run.reviews_due) == (0, 0)
    clock.advance(dt.timedelta(days=40))  # 16 May 2026
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (run.surveillances_checked, run.alerts_raised, run.reviews_due) == (1, 1, 0)

    clock.advance(dt.timedelta(days=46))  # 1 July 2026: the review date
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert run.reviews_due == 1
    again = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (again.alerts_raised, again.reviews_due) == (0, 0)  # once per review date
    got = cra(
        "GetCaseSurveillance",
        api.GetCaseSurveillanceRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
        ),
    )
    assert got.state == pb.CASE_SURVEILLANCE_STATE_REVIEW_DUE and got.alert_count == 2
    # Another case cannot see it.
    err = code_of(
        lambda: cra(
            "GetCaseSurveillance",
            api.GetCaseSurveillanceRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-other"),
                surveillance_id=watch.surveillance_id,
            ),
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND

    stopped = cra(
        "StopCaseSurveillance",
        api.StopCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
            reason=pb.SURVEILLANCE_STOP_REASON_ENFORCEMENT_RESUMED,
        ),
    )
    assert stopped.state == pb.CASE_SURVEILLANCE_STATE_STOPPED
    # Stopped: a new account raises nothing.
    assert not cra.change(
        add_current_account=pb.CurrentAccount(
            provider_name="Albion Bank",
            sort_code="20-00-00",
            account_number="55555555",
            holding=pb.ACCOUNT_HOLDING_SOLE,
        )
    ).raised_alerts

    events = _events(bootstrap, case, expected=4)
    assert [kind for _, kind, _ in events] == [
        "alert_raised",
        "alert_raised",
        "review_due",
        "stopped",
    ]
    assert len({ce_id for ce_id, _, _ in events}) == 4
    review = events[2][2]
    assert review.alerts_since_last_review_count == 2 and review.review_date == d(2026, 7, 1)
    assert list(review.alert_kinds_since_last_review) == [
        pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
        pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
    ]
    assert events[3][2].alert_count == 2 and events[0][2].nino == ALEX
    alerts = cra(
        "ListSurveillanceAlerts",
        api.ListSurveillanceAlertsRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
        ),
    )
    assert len(alerts.surveillance_alerts) == 2


def test_surveillance_events_reach_a_consumer_group_exactly_once_across_a_restart(
    cra_with_broker, database_url, clock
):
    """A consumer that handles events but dies before committing its offsets gets them again from the broker; the
    platform's idempotent consumer applies each once (its processed-event record is in the handler's transaction)."""
    from kafka import KafkaConsumer
    from sqlalchemy import text

    from cms_devkit.testing import wait_until
    from cms_platform import cloudevents
    from cms_platform.consumer import IdempotentConsumer, Subscription
    from cms_platform.db import make_engine, make_sessionmaker
    from cms_platform.models import ConsumerPosition, ProcessedEvent

    cra, bootstrap = cra_with_broker
    case = f"case-{uuid.uuid4().hex[:8]}"
    watch = _surveil(cra, case)
    for n in range(3):
        cra.change(
            add_current_account=pb.CurrentAccount(
                provider_name="Albion Bank",
                sort_code="20-00-00",
                account_number=f"7000000{n}",
                holding=pb.ACCOUNT_HOLDING_SOLE,
            )
        )
    assert wait_until(lambda: len(_events(bootstrap, case, expected=3)) == 3, timeout=30)

    engine = make_engine(database_url("casework-consumer"))
    ProcessedEvent.__table__.create(engine)
    ConsumerPosition.__table__.create(engine)
    with engine.begin() as c:
        c.execute(
            text(
                "CREATE TABLE handled (event_id VARCHAR(64) PRIMARY KEY, surveillance_id VARCHAR(64))"
            )
        )
    sessions = make_sessionmaker(engine)

    def handle(s, event: ev.CaseSurveillanceAlertRaised, env: cloudevents.Envelope) -> None:
        if event.case_reference == case:
            s.execute(
                text("INSERT INTO handled VALUES (:e, :s)"),
                {"e": env.id, "s": event.surveillance_id},
            )

    group = f"casework-{uuid.uuid4().hex[:6]}"
    subscription = Subscription(group_id=group, handlers={ev.CaseSurveillanceAlertRaised: handle})
    # First life: handles everything, then "crashes" before committing its offsets.
    first = IdempotentConsumer(
        service="casework",
        subscription=subscription,
        bootstrap_servers=bootstrap,
        sessions=sessions,
        clock=clock,
    )
    raw = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )

    def handled() -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM handled")).scalar()

    deadline = dt.datetime.now() + dt.timedelta(seconds=20)
    while handled() < 3 and dt.datetime.now() < deadline:
        for records in raw.poll(timeout_ms=300).values():
            for r in records:
                first.handle_record(r.headers, r.key, r.value)
    assert handled() == 3
    raw.close(autocommit=False)
    # Second life: the group starts again from the beginning and sees every event a second time.
    second = IdempotentConsumer(
        service="casework",
        subscription=subscription,
        bootstrap_servers=bootstrap,
        sessions=sessions,
        clock=clock,
    )
    second.start()
    try:
        wait_until(
            lambda: second.assigned.is_set(), timeout=30, what="the restarted consumer to join"
        )
        cra.change(
            add_current_account=pb.CurrentAccount(
                provider_name="Albion Bank",
                sort_code="20-00-00",
                account_number="70000009",
                holding=pb.ACCOUNT_HOLDING_SOLE,
            )
        )
        wait_until(lambda: handled() == 4, timeout=30, what="the fourth alert")
        time.sleep(
            1
        )  # anything redelivered late would show up as a fifth row or an integrity error
        with engine.connect() as c:
            rows = c.execute(text("SELECT surveillance_id FROM handled")).scalars().all()
            redelivered = c.execute(
                text("SELECT count(*) FROM processed_events WHERE outcome = 'handled'")
            ).scalar()
        assert (
            rows == [watch.surveillance_id] * 4
        )  # each alert applied once, though three were delivered twice
        assert redelivered >= 4
        from cms_platform.metrics import EVENTS_CONSUMED

        assert (
            EVENTS_CONSUMED.labels("casework", group, "duplicate")._value.get() >= 3
        )  # they did come again
    finally:
        second.stop()
        engine.dispose()
