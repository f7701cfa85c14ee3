"""The trace workflow through the running stack: CIS first, then the credit reference agency, then HMRC's employer
records only once both found nothing usable; every request recorded with its purpose, legal basis, caller, time and
outcome; a trace that finds nothing raises a service request; refusals; replay by request_id.

The simulated population holds, for Alex, the address the case already has on CIS and on the credit file, and a
live employment at HMRC: by default CIS and the CRA find nothing new and HMRC finds the employer."""

from __future__ import annotations

import grpc

from cms.casework.v1 import casework_service_pb2 as cw_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import tracing_pb2 as tpb
from cms.casework.v1 import tracing_service_pb2 as api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_platform.grpc_errors import details_of

from ..arrears.helpers import live_case
from ..conftest import error
from .conftest import rid, tracing_events


def start(tracing, case) -> tpb.Trace:
    return tracing.call(
        "StartTrace",
        api.StartTraceRequest(
            request_id=rid(), parent=case.name, reason="Post returned: gone away"
        ),
    )


def step(
    tracing, trace: tpb.Trace, method=tpb.TRACE_METHOD_UNSPECIFIED, request_id: str | None = None
):
    return tracing.call(
        "RunTraceStep",
        api.RunTraceStepRequest(request_id=request_id or rid(), name=trace.name, method=method),
        attempts=1,
    )


def requests_of(tracing, case) -> list[tpb.InformationRequest]:
    """The case's requests for information, oldest first."""
    found = tracing.call(
        "ListInformationRequests", api.ListInformationRequestsRequest(parent=case.name)
    ).information_requests
    return list(reversed(found))


def refusal(err: grpc.RpcError) -> str:
    """The reason of a FAILED_PRECONDITION."""
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
    (violation,) = details_of(err)["PreconditionFailure"].violations
    return violation.type


def test_cis_first_and_a_new_address_there_ends_the_trace(stack, tracing):
    # The case holds no address for Bethan, the receiving parent; CIS holds one. (A CIS change made after the case
    # exists is broadcast to it and casework takes the address, so the simulated record is left as generated.)
    case = live_case(stack)
    assert not case.receiving_parent.address.postcode
    trace = tracing.call(
        "StartTrace",
        api.StartTraceRequest(
            request_id=rid(),
            parent=case.name,
            client=case.receiving_parent.name,
            reason="Letters returned undelivered",
        ),
    )
    assert trace.client == case.receiving_parent.name
    assert trace.state == tpb.TRACE_STATE_IN_PROGRESS
    assert trace.next_method == tpb.TRACE_METHOD_CIS_ADDRESS

    trace = step(tracing, trace)

    assert trace.state == tpb.TRACE_STATE_FOUND
    assert trace.found_by == tpb.TRACE_METHOD_CIS_ADDRESS
    assert [s.method for s in trace.steps] == [tpb.TRACE_METHOD_CIS_ADDRESS]
    assert trace.steps[0].findings == ["CURRENT_ADDRESS"]
    assert trace.steps[0].address.postcode
    assert trace.next_method == tpb.TRACE_METHOD_UNSPECIFIED
    # The CRA was never searched: no footprint on the file, and one request recorded (CIS's).
    assert tracing.cra_footprints(case.receiving_parent.identity.nino) == []
    (cis,) = requests_of(tracing, case)
    assert cis.source == tpb.INFORMATION_SOURCE_DWP_CIS
    assert "SI 2008/2551" in cis.legal_basis
    # An ended trace runs nothing more.
    assert refusal(error(lambda: step(tracing, trace))) == "TRACE_ENDED"
    ended = tracing_events(stack, case.name, "trace_ended")
    assert money_ev.TraceEnded.FromString(ended[0].value).found_by == tpb.TRACE_METHOD_CIS_ADDRESS


def test_hmrc_is_asked_only_once_cis_and_the_cra_have_found_nothing(stack, tracing):
    case = live_case(stack)
    trace = start(tracing, case)
    nino = case.paying_parent.identity.nino

    # Out of order: HMRC before anything, the CRA before CIS.
    assert (
        refusal(error(lambda: step(tracing, trace, tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE)))
        == "TRACE_METHODS_NOT_EXHAUSTED"
    )
    assert (
        refusal(error(lambda: step(tracing, trace, tpb.TRACE_METHOD_CRA_TRACE)))
        == "TRACE_STEP_OUT_OF_ORDER"
    )
    assert requests_of(tracing, case) == [] and tracing.cra_footprints(nino) == []

    # CIS holds only the address the case already has: nothing usable; HMRC still refused.
    trace = step(tracing, trace, tpb.TRACE_METHOD_CIS_ADDRESS)
    assert trace.steps[-1].outcome == tpb.TRACE_STEP_OUTCOME_NOTHING_USABLE
    assert trace.steps[-1].findings == ["ADDRESS_ALREADY_HELD"]
    assert trace.next_method == tpb.TRACE_METHOD_CRA_TRACE
    assert (
        refusal(error(lambda: step(tracing, trace, tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE)))
        == "TRACE_METHODS_NOT_EXHAUSTED"
    )

    # The CRA's file links Alex to the same address: nothing usable; now HMRC may be asked, and finds the employer.
    trace = step(tracing, trace, tpb.TRACE_METHOD_CRA_TRACE)
    assert trace.steps[-1].outcome == tpb.TRACE_STEP_OUTCOME_NOTHING_USABLE
    assert trace.next_method == tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE
    trace = step(tracing, trace, tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE)
    assert trace.state == tpb.TRACE_STATE_FOUND
    assert trace.found_by == tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE
    assert "EMPLOYER" in trace.steps[-1].findings and trace.steps[-1].employer_name

    # The legal basis is recorded on every request, in the order they were made.
    made = requests_of(tracing, case)
    assert [(r.source, r.operation) for r in made] == [
        (tpb.INFORMATION_SOURCE_DWP_CIS, "dwp-gateway GetPersonRecord"),
        (tpb.INFORMATION_SOURCE_CREDIT_REFERENCE_AGENCY, "cra-gateway TracePerson"),
        (tpb.INFORMATION_SOURCE_HMRC, "hmrc-gateway LocatePayingParentEmployerRecords"),
    ]
    for r in made:
        assert r.purpose == tpb.INFORMATION_PURPOSE_TRACE
        assert r.legal_basis.startswith("Child Support Act 1991 s14")
        assert "Child Support Information Regulations 2008 (SI 2008/2551) reg 4" in r.legal_basis
        assert r.requested_by == "staff:cw-1"
        assert r.request_time.seconds > 0
        assert r.outcome == tpb.INFORMATION_OUTCOME_MATCHED
        assert r.made_for == trace.name and r.client == trace.client
    assert "Sch 2 para 1" in made[2].legal_basis
    (footprint,) = tracing.cra_footprints(case.paying_parent.identity.nino)
    assert footprint.purpose == cra_pb.SEARCH_PURPOSE_TRACE
    assert footprint.search_reference == made[1].source_reference
    # Each step's find is in the trace: [CIS, CRA, HMRC], each naming its recorded request.
    assert [s.information_request for s in trace.steps] == [r.name for r in made]


def test_a_forward_address_on_the_credit_file_ends_the_trace_at_the_cra(stack, tracing):
    case = live_case(stack)
    tracing.cra_scenarios(
        case.paying_parent.identity.nino, cra_pb.CREDIT_FILE_SCENARIO_FORWARD_ADDRESS
    )
    trace = step(tracing, start(tracing, case))
    trace = step(tracing, trace)
    assert trace.state == tpb.TRACE_STATE_FOUND, trace
    assert trace.found_by == tpb.TRACE_METHOD_CRA_TRACE
    assert trace.steps[-1].address.postcode
    assert trace.steps[-1].address.postcode != case.paying_parent.address.postcode
    assert len(requests_of(tracing, case)) == 2  # no HMRC request


def test_nothing_found_anywhere_exhausts_the_trace_and_raises_a_service_request(stack, tracing):
    case = live_case(stack)
    identity = case.paying_parent.identity
    # CIS holds only the address the case already has (the generated record).
    tracing.cra_scenarios(identity.nino, cra_pb.CREDIT_FILE_SCENARIO_NO_TRACE)
    tracing.hmrc_holds_nothing(identity)
    trace = start(tracing, case)
    for _ in range(3):
        trace = step(tracing, trace)

    assert trace.state == tpb.TRACE_STATE_EXHAUSTED
    assert [(s.method, s.outcome) for s in trace.steps] == [
        (tpb.TRACE_METHOD_CIS_ADDRESS, tpb.TRACE_STEP_OUTCOME_NOTHING_USABLE),
        (tpb.TRACE_METHOD_CRA_TRACE, tpb.TRACE_STEP_OUTCOME_NOT_FOUND),
        (tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE, tpb.TRACE_STEP_OUTCOME_NOTHING_USABLE),
    ]
    assert trace.steps[0].findings == ["ADDRESS_ALREADY_HELD"]
    srs = stack.call(
        "ListServiceRequests", cw_api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    (sr,) = [s for s in srs if s.sub_area == "Trace Exhausted"]
    assert sr.name == trace.service_request
    assert identity.nino not in sr.description and identity.name.surname not in sr.description
    made = requests_of(tracing, case)
    assert [r.outcome for r in made] == [
        tpb.INFORMATION_OUTCOME_MATCHED,
        tpb.INFORMATION_OUTCOME_NOT_FOUND,
        tpb.INFORMATION_OUTCOME_MATCHED,
    ]

    trace_id = trace.name.rsplit("/", 1)[-1]
    (started,) = tracing_events(stack, case.name, "trace_started")
    assert money_ev.TraceStarted.FromString(started.value).trace_id == trace_id
    steps = tracing_events(stack, case.name, "trace_step_completed", expected=3)
    assert [money_ev.TraceStepCompleted.FromString(r.value).method for r in steps] == [
        tpb.TRACE_METHOD_CIS_ADDRESS,
        tpb.TRACE_METHOD_CRA_TRACE,
        tpb.TRACE_METHOD_HMRC_EMPLOYER_TRACE,
    ]
    (ended,) = tracing_events(stack, case.name, "trace_ended")
    event = money_ev.TraceEnded.FromString(ended.value)
    assert event.state == tpb.TRACE_STATE_EXHAUSTED and event.service_request == sr.name
    for record in [started, *steps, ended]:  # ids only, never the person
        assert identity.nino.encode() not in record.value
        assert identity.name.surname.encode() not in record.value


def test_a_step_replayed_by_request_id_asks_once(stack, tracing):
    case = live_case(stack)
    start_request = api.StartTraceRequest(
        request_id=rid(), parent=case.name, reason="Post returned: gone away"
    )
    trace = tracing.call("StartTrace", start_request)
    assert tracing.call("StartTrace", start_request) == trace
    # Another trace of the same client while this one runs is refused.
    assert refusal(error(lambda: start(tracing, case))) == "TRACE_IN_PROGRESS"

    same = rid()
    first = step(tracing, trace, request_id=same)
    again = step(tracing, trace, request_id=same)
    assert again == first and len(first.steps) == 1
    assert len(requests_of(tracing, case)) == 1
    listed = tracing.call("ListTraces", api.ListTracesRequest(parent=case.name)).traces
    assert [t.name for t in listed] == [trace.name]
    assert tracing.call("GetTrace", api.GetTraceRequest(name=trace.name)) == first


def test_parents_may_not_trace_or_read_the_record(stack, tracing):
    case = live_case(stack)
    as_parent = stack.creds.client(case.paying_parent.name.removeprefix("clients/"))
    denied = error(
        lambda: tracing.call(
            "StartTrace",
            api.StartTraceRequest(request_id=rid(), parent=case.name, reason="Post returned"),
            as_=as_parent,
            attempts=1,
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    denied = error(
        lambda: tracing.call(
            "ListInformationRequests",
            api.ListInformationRequestsRequest(parent=case.name),
            as_=as_parent,
            attempts=1,
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    # A team leader may.
    trace = tracing.call(
        "StartTrace",
        api.StartTraceRequest(request_id=rid(), parent=case.name, reason="Post returned"),
        as_=stack.team_leader(),
    )
    assert trace.started_by == "staff:tl-1"
