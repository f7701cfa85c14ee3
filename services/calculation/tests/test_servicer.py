"""CalculationService through a real gRPC server on port 0 and a real database."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2
from sqlalchemy import func, select

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.app import CalculationService
from cms_calculation.calculations.models import StoredCalculation
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.models import OutboxEvent


def calc_input(annual_pence: int = 31_200_00, children: int = 2, **kw) -> pb.CalculationInput:
    kw.setdefault("effective_date", date_pb2.Date(year=2026, month=5, day=1))
    kw.setdefault("service_type", pb.SERVICE_TYPE_DIRECT_PAY)
    return pb.CalculationInput(
        paying_parent_income=pb.PayingParentIncome(
            hmrc_gross_annual_income_pence=annual_pence, hmrc_tax_year="2025-26"
        ),
        qualifying_children=[
            pb.QualifyingChild(child_reference=f"child-{i}", receiving_parent_reference="rp-1")
            for i in range(children)
        ],
        **kw,
    )


@pytest.fixture
def calculation(start_service):
    service, channel = start_service(CalculationService)
    return service, api_grpc.CalculationServiceStub(channel)


def test_basic_rate_two_children_is_explained_and_stored(calculation, creds):
    service, stub = calculation
    # £31,200 a year → £598.36 a week; 16% → £95.74 → £96 (docs/domain/calculation.md §2.5 worked example shape).
    calc = stub.CreateCalculation(
        api.CreateCalculationRequest(
            request_id=str(uuid.uuid4()), case_reference="case-1", input=calc_input()
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert calc.rate == pb.RATE_BASIC
    assert calc.gross_weekly_income_pence == 59_836
    assert calc.weekly_amount_pence == 96_00
    assert [s.citation for s in calc.steps][0] == "2012 Regs regs 35 and 36"
    monthly = {p.frequency: p.amount_pence for p in calc.periodic_amounts}
    assert monthly[4] == 416_00  # £96 × 52 / 12
    again = stub.GetCalculation(
        api.GetCalculationRequest(name=calc.name), metadata=creds.service("casework"), timeout=5
    )
    assert again == calc


def test_retry_with_same_request_id_has_one_effect(calculation, creds):
    service, stub = calculation
    request = api.CreateCalculationRequest(
        request_id=str(uuid.uuid4()), case_reference="case-2", input=calc_input()
    )
    first = stub.CreateCalculation(request, metadata=creds.service("casework"), timeout=5)
    second = stub.CreateCalculation(request, metadata=creds.service("casework"), timeout=5)
    assert first == second
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 1
        # Keyed by the case's resource name, so one case's decisions stay in order.
        assert s.scalar(select(OutboxEvent.partition_key)) == "cases/case-2"


def test_same_request_id_for_a_different_request_is_refused(calculation, creds):
    _, stub = calculation
    rid = str(uuid.uuid4())
    stub.CreateCalculation(
        api.CreateCalculationRequest(request_id=rid, case_reference="c", input=calc_input()),
        metadata=creds.service("casework"),
        timeout=5,
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id=rid, case_reference="other", input=calc_input()
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["request_id"]


def test_bad_input_names_every_field(calculation, creds):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id="not-a-uuid",
                input=pb.CalculationInput(effective_date=date_pb2.Date(year=2026, month=2, day=30)),
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = set(violated_fields(err.value))
    assert {
        "request_id",
        "case_reference",
        "input.effective_date",
        "input.qualifying_children",
        "input.service_type",
    } <= fields
    assert details_of(err.value)["ErrorInfo"].reason == "FIELD_INVALID"


def test_not_found_carries_resource_info(calculation, creds):
    _, stub = calculation

    def not_found(name: str):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetCalculation(
                api.GetCalculationRequest(name=name),
                metadata=creds.service("casework"),
                timeout=5,
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        return details_of(err.value)["ResourceInfo"]

    ours = f"calculations/{uuid.uuid4()}"
    assert not_found(ours).resource_name == ours
    # Not one of our ids (it could be a name sent in the wrong field): not given back.
    assert not_found("calculations/Bethan Morgan").resource_name == ""


def test_no_identity_is_unauthenticated(calculation):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(api.PreviewCalculationRequest(input=calc_input()), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_forged_identity_is_unauthenticated(calculation, creds, tmp_path):
    from cms_devkit.issuer import LocalIssuer
    from cms_platform.identity import staff_caller

    _, stub = calculation
    # The trusted issuer's name, another key; and a genuine token for another service.
    forged = LocalIssuer.create(tmp_path).mint(staff_caller("mallory"), audience="calculation")
    for metadata in (
        (("authorization", f"Bearer {forged}"),),
        creds.staff("mallory", audience="casework"),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.PreviewCalculation(
                api.PreviewCalculationRequest(input=calc_input()), metadata=metadata, timeout=5
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_no_qualifying_child_nights_out_of_range_and_unknown_codes_are_named(calculation, creds):
    _, stub = calculation
    bad = calc_input(
        children=1,
        benefits=[pb.BenefitReceipt(benefit=99, recipient=pb.BENEFIT_RECIPIENT_PARTNER)],
        special_expenses=[pb.SpecialExpense(kind=42, weekly_amount_pence=10_00)],
    )
    bad.qualifying_children[0].shared_care_nights = 400
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id=str(uuid.uuid4()), case_reference="c-bad", input=bad
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(err.value)) == {
        "input.benefits[0].benefit",
        "input.special_expenses[0].kind",
    }
    bad.ClearField("benefits")
    bad.ClearField("special_expenses")
    bad.paying_parent_income.hmrc_gross_annual_income_pence = -1
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(
            api.PreviewCalculationRequest(input=bad), metadata=creds.service("casework"), timeout=5
        )
    # The contract's limits (a negative amount) are checked before the engine's rules (nights within the period).
    assert violated_fields(err.value) == [
        "input.paying_parent_income.hmrc_gross_annual_income_pence"
    ]
    bad.paying_parent_income.hmrc_gross_annual_income_pence = 0
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(
            api.PreviewCalculationRequest(input=bad), metadata=creds.service("casework"), timeout=5
        )
    assert violated_fields(err.value) == ["input.qualifying_children[0].shared_care_nights"]
    early = calc_input(effective_date=date_pb2.Date(year=2012, month=12, day=9))
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(
            api.PreviewCalculationRequest(input=early),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert violated_fields(err.value) == ["input.effective_date"]


def test_refused_calculation_stores_nothing(calculation, creds):
    service, stub = calculation
    bad = calc_input()
    bad.qualifying_children[0].shared_care_nights = -1
    with pytest.raises(grpc.RpcError):
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id=str(uuid.uuid4()), case_reference="c-none", input=bad
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_list_a_cases_decisions_newest_first_in_pages(calculation, creds):
    _, stub = calculation
    for month in (1, 3, 2):
        i = calc_input()
        i.effective_date.month = month
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id=str(uuid.uuid4()), case_reference="case-list", input=i
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    first = stub.ListCalculations(
        api.ListCalculationsRequest(case_reference="case-list", page_size=2),
        metadata=creds.service("casework"),
        timeout=5,
    )
    rest = stub.ListCalculations(
        api.ListCalculationsRequest(
            case_reference="case-list", page_size=2, page_token=first.next_page_token
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    months = [c.effective_date.month for c in [*first.calculations, *rest.calculations]]
    assert months == [3, 2, 1] and rest.next_page_token == ""
    assert not first.calculations[0].steps and not first.calculations[0].HasField(
        "input"
    )  # BASIC by default


def test_preview_stores_nothing_and_can_apply_the_reform(calculation, creds):
    service, stub = calculation
    i = calc_input(service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    today = stub.PreviewCalculation(
        api.PreviewCalculationRequest(input=i), metadata=creds.service("casework"), timeout=5
    )
    reform = stub.PreviewCalculation(
        api.PreviewCalculationRequest(input=i, rule_set_version="reform-2025"),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert today.name == "" and not today.collection_fees.charged
    assert (
        reform.collection_fees.charged
        and reform.collection_fees.paying_parent_fee_basis_points == 200
    )
    assert reform.weekly_amount_pence == today.weekly_amount_pence
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(
            api.PreviewCalculationRequest(input=i, rule_set_version="1999"),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 0


def test_statement_for_each_audience(calculation, creds):
    _, stub = calculation
    i = calc_input(children=0, service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY)
    i.qualifying_children.add(
        child_reference="amy", receiving_parent_reference="rp-a", forename="Amy"
    )
    i.qualifying_children.add(
        child_reference="ben", receiving_parent_reference="rp-b", shared_care_nights=120
    )
    calc = stub.CreateCalculation(
        api.CreateCalculationRequest(
            request_id=str(uuid.uuid4()), case_reference="case-st", input=i
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    paying = stub.RenderCalculationStatement(
        api.RenderCalculationStatementRequest(
            name=calc.name, audience=pb.STATEMENT_AUDIENCE_PAYING_PARENT
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert "Amy" in paying.plain_text and "ben" in paying.plain_text
    mine = stub.RenderCalculationStatement(
        api.RenderCalculationStatementRequest(
            name=calc.name,
            audience=pb.STATEMENT_AUDIENCE_RECEIVING_PARENT,
            receiving_parent_reference="rp-a",
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert (
        "Amy" in mine.plain_text and "ben" not in mine.plain_text and "rp-b" not in mine.plain_text
    )
    caseworker = stub.RenderCalculationStatement(
        api.RenderCalculationStatementRequest(
            name=calc.name, audience=pb.STATEMENT_AUDIENCE_CASEWORKER
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert "Sch 1 para 7" in caseworker.plain_text
    with pytest.raises(grpc.RpcError) as err:
        stub.RenderCalculationStatement(
            api.RenderCalculationStatementRequest(
                name=calc.name,
                audience=pb.STATEMENT_AUDIENCE_RECEIVING_PARENT,
                receiving_parent_reference="rp-x",
            ),
            metadata=creds.service("casework"),
            timeout=5,
        )
    assert violated_fields(err.value) == ["receiving_parent_reference"]


def test_rule_sets_are_listed_and_fetched(calculation, creds):
    _, stub = calculation
    all_sets = stub.ListRuleSets(
        api.ListRuleSetsRequest(), metadata=creds.service("casework"), timeout=5
    ).rule_sets
    assert [r.version for r in all_sets] == [
        "2012-12-10",
        "2013-11-25",
        "2014-08-11",
        "2017-04-06",
        "reform-2025",
    ]
    assert all_sets[3].effective_period.end_date == date_pb2.Date()  # in force until further notice
    assert not all_sets[4].HasField(
        "effective_period"
    )  # the reform has no start date until configured
    today = stub.ListRuleSets(
        api.ListRuleSetsRequest(effective_date=date_pb2.Date(year=2014, month=8, day=10)),
        metadata=creds.service("casework"),
        timeout=5,
    ).rule_sets
    assert [r.version for r in today] == ["2013-11-25"]
    one = stub.GetRuleSet(
        api.GetRuleSetRequest(name="ruleSets/2014-08-11"),
        metadata=creds.service("casework"),
        timeout=5,
    )
    params = {p.name: p for p in one.parameters}
    assert params["rounding.whole_pound_point"].unconfirmed
    assert params["default_decision.weekly_amounts"].value == "3900,5100,6400"
    # every parameter a step names is published
    calc = stub.PreviewCalculation(
        api.PreviewCalculationRequest(input=calc_input()),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert {n for s in calc.steps for n in s.rule_set_parameters} <= set(params)


def test_reform_start_date_comes_from_settings(start_service, creds):
    _, channel = start_service(
        CalculationService, db_name="calc-reform", reform_start_date="2026-04-06"
    )
    stub = api_grpc.CalculationServiceStub(channel)
    calc = stub.PreviewCalculation(
        api.PreviewCalculationRequest(input=calc_input()),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert calc.rule_set_version == "reform-2025" and calc.collection_fees.charged


def _bulk(stub, batches, creds):
    return list(stub.BulkCalculate(iter(batches), metadata=creds.service("casework"), timeout=30))


def test_bulk_what_if_answers_every_item_in_order_and_one_bad_item_does_not_end_the_stream(
    calculation, creds
):
    service, stub = calculation
    bad = calc_input()
    bad.qualifying_children[0].shared_care_nights = 999
    items = [
        api.BulkCalculateItem(
            request_id=str(uuid.uuid4()),
            case_reference=f"case-{n}",
            what_if=True,
            input=calc_input(annual_pence=20_000_00 + n * 1_000_00),
        )
        for n in range(5)
    ]
    items[2] = api.BulkCalculateItem(
        request_id=str(uuid.uuid4()), case_reference="case-bad", what_if=True, input=bad
    )
    no_id = api.BulkCalculateItem(case_reference="case-no-id", what_if=True, input=calc_input())
    responses = _bulk(
        stub,
        [
            api.BulkCalculateRequest(items=items[:3]),
            api.BulkCalculateRequest(items=items[3:]),
            api.BulkCalculateRequest(items=[no_id]),
        ],
        creds,
    )
    results = [r for resp in responses for r in resp.results]
    assert [r.case_reference for r in results] == [i.case_reference for i in items] + ["case-no-id"]
    assert [r.WhichOneof("result") for r in results] == ["calculation"] * 2 + ["error"] + [
        "calculation"
    ] * 2 + ["error"]
    assert results[2].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "input.qualifying_children[0].shared_care_nights" in results[2].error.message
    assert "request_id" in results[5].error.message
    amounts = [r.calculation.weekly_amount_pence for r in results if r.HasField("calculation")]
    assert amounts == sorted(amounts) and not results[0].calculation.steps  # BASIC view by default
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 0


def test_bulk_stored_items_are_decisions_with_events_and_idempotent_per_item(calculation, creds):
    service, stub = calculation
    items = [
        api.BulkCalculateItem(
            request_id=str(uuid.uuid4()),
            case_reference=f"review-{n}",
            input=calc_input(),
            reason=pb.CALCULATION_REASON_ANNUAL_REVIEW,
            view=pb.CALCULATION_VIEW_FULL,
        )
        for n in range(3)
    ]
    first = _bulk(stub, [api.BulkCalculateRequest(items=items)], creds)[0].results
    again = _bulk(stub, [api.BulkCalculateRequest(items=items[1:])], creds)[
        0
    ].results  # a retried tail
    assert [r.calculation.name for r in again] == [r.calculation.name for r in first[1:]]
    assert (
        first[0].calculation.steps
        and first[0].calculation.reason == pb.CALCULATION_REASON_ANNUAL_REVIEW
    )
    stored = stub.GetCalculation(
        api.GetCalculationRequest(name=first[0].calculation.name),
        metadata=creds.service("casework"),
        timeout=5,
    )
    assert stored == first[0].calculation
    changed = api.BulkCalculateItem()
    changed.CopyFrom(items[0])
    changed.case_reference = "someone-else"
    reform_on_stored = api.BulkCalculateItem(
        request_id=str(uuid.uuid4()),
        case_reference="r",
        input=calc_input(),
        rule_set_version="reform-2025",
    )
    refused = _bulk(stub, [api.BulkCalculateRequest(items=[changed, reform_on_stored])], creds)[
        0
    ].results
    assert [r.WhichOneof("result") for r in refused] == ["error", "error"]
    assert (
        "request_id" in refused[0].error.message and "rule_set_version" in refused[1].error.message
    )
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 3
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 3


def test_bulk_refuses_an_empty_or_oversized_batch(calculation, creds):
    _, stub = calculation
    for batch in (
        api.BulkCalculateRequest(),
        api.BulkCalculateRequest(
            items=[
                api.BulkCalculateItem(
                    request_id=str(uuid.uuid4()),
                    case_reference="c",
                    what_if=True,
                    input=calc_input(),
                )
            ]
            * 1001
        ),
    ):
        with pytest.raises(grpc.RpcError) as err:
            _bulk(stub, [batch], creds)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(err.value) == ["items"]


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_answers_a_client_that_waits_for_each_batch_in_process_or_in_workers(
    start_service, creds, workers
):
    """Read-ahead must never wait for a batch the client has not sent yet; worker processes and the service process
    give identical answers."""
    import queue

    _, channel = start_service(
        CalculationService, db_name=f"calc-bulk-{workers}", bulk_workers=workers
    )
    stub = api_grpc.CalculationServiceStub(channel)
    outbox: queue.Queue = queue.Queue()

    def requests():
        while (batch := outbox.get()) is not None:
            yield batch

    responses = stub.BulkCalculate(requests(), metadata=creds.service("casework"), timeout=60)
    answers = []
    for n in range(3):
        outbox.put(
            api.BulkCalculateRequest(
                items=[
                    api.BulkCalculateItem(
                        request_id=str(uuid.uuid4()),
                        case_reference=f"lock-step-{n}",
                        what_if=True,
                        input=calc_input(annual_pence=30_000_00 + n),
                    )
                ]
            )
        )
        answers.append(next(responses))
    outbox.put(None)
    assert list(responses) == []
    assert [a.results[0].case_reference for a in answers] == [
        "lock-step-0",
        "lock-step-1",
        "lock-step-2",
    ]
    assert all(
        a.results[0].calculation.weekly_amount_pence == 92_00 for a in answers
    )  # 16% of £575.34 → £92


def test_an_item_whose_figures_would_overflow_is_refused_alone(calculation, creds):
    """An amount beyond any the scheme meets is that item's INVALID_ARGUMENT, never the end of the bulk stream (its
    sums once overflowed the contract's int64), and the same for a single preview."""
    _, stub = calculation
    huge = calc_input()
    huge.additional_incomes.add(
        kind=pb.ADDITIONAL_INCOME_KIND_UNEARNED_INCOME, weekly_amount_pence=2**63 - 1
    )
    items = [
        api.BulkCalculateItem(
            request_id=str(uuid.uuid4()), case_reference=ref, what_if=True, input=given
        )
        for ref, given in (("case-huge", huge), ("case-fine", calc_input()))
    ]
    [response] = _bulk(stub, [api.BulkCalculateRequest(items=items)], creds)
    refused, fine = response.results
    assert refused.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "input.additional_incomes[0].weekly_amount_pence" in refused.error.message
    assert fine.HasField("calculation")
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(
            api.PreviewCalculationRequest(input=huge),
            metadata=creds.service("casework"),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.additional_incomes[0].weekly_amount_pence" in violated_fields(err.value)


def _create(stub, creds, input: pb.CalculationInput) -> pb.Calculation:
    return stub.CreateCalculation(
        api.CreateCalculationRequest(
            request_id=str(uuid.uuid4()), case_reference="case-issue-15", input=input
        ),
        metadata=creds.service("casework"),
        timeout=5,
    )


def test_basic_amount_is_rounded_once_to_the_pound(calculation, creds):
    """2012 Regs reg 6; Child Support Act 1991 Sch 1 para 2(1): 12% of £437.46 is £52.4952, which is £52 (not £52.50 → £53)."""
    _, stub = calculation
    calc = _create(stub, creds, calc_input(2_281_041, children=1))
    assert calc.gross_weekly_income_pence == 437_46
    assert calc.weekly_amount_pence == 52_00


def test_special_expenses_need_an_income_of_at_least_the_flat_rate_threshold(calculation, creds):
    """Special expenses are not available below £7 a week (docs/domain/calculation.md §6), even when diverted
    income (reg 71) lifts the income: £5.00 + £300 = £305, 12% = £36.60 → £37."""
    _, stub = calculation
    calc = _create(
        stub,
        creds,
        calc_input(
            260_71,  # £5.00 a week
            children=1,
            special_expenses=[
                pb.SpecialExpense(
                    kind=pb.SPECIAL_EXPENSE_KIND_CONTACT_COSTS, weekly_amount_pence=50_00
                )
            ],
            additional_incomes=[
                pb.AdditionalIncome(
                    kind=pb.ADDITIONAL_INCOME_KIND_DIVERTED_INCOME, weekly_amount_pence=300_00
                )
            ],
        ),
    )
    assert calc.gross_weekly_income_pence == 305_00
    assert calc.weekly_amount_pence == 37_00


def test_bereavement_allowance_is_the_flat_rate_for_a_decision_before_its_omission(
    calculation, creds
):
    """2012 Regs reg 44(1) as made; omitted from 6 April 2017."""
    _, stub = calculation
    receipt = pb.BenefitReceipt(
        benefit=pb.BENEFIT_BEREAVEMENT_ALLOWANCE, recipient=pb.BENEFIT_RECIPIENT_PAYING_PARENT
    )
    calc = _create(
        stub,
        creds,
        calc_input(
            0,
            children=1,
            benefits=[receipt],
            effective_date=date_pb2.Date(year=2016, month=5, day=1),
        ),
    )
    assert (calc.rate, calc.weekly_amount_pence) == (pb.RATE_FLAT, 7_00)


def test_batch_get_answers_each_name_in_the_order_asked_or_fails_whole(calculation, creds):
    _, stub = calculation
    casework = creds.service("casework")
    stored = [
        stub.CreateCalculation(
            api.CreateCalculationRequest(
                request_id=str(uuid.uuid4()),
                case_reference=f"case-batch-{i}",
                input=calc_input(annual_pence=(20_000 + 5_000 * i) * 100),
            ),
            metadata=casework,
            timeout=5,
        )
        for i in range(3)
    ]
    asked = [stored[2].name, stored[0].name, stored[2].name, stored[1].name]
    got = stub.BatchGetCalculations(
        api.BatchGetCalculationsRequest(names=asked), metadata=casework, timeout=5
    )
    # What GetCalculation answers, name by name (a name asked twice answered twice).
    each = [
        stub.GetCalculation(api.GetCalculationRequest(name=n), metadata=casework, timeout=5)
        for n in asked
    ]
    assert list(got.calculations) == each
    basic = stub.BatchGetCalculations(
        api.BatchGetCalculationsRequest(names=asked, view=pb.CALCULATION_VIEW_BASIC),
        metadata=casework,
        timeout=5,
    )
    assert list(basic.calculations) == [
        stub.GetCalculation(
            api.GetCalculationRequest(name=n, view=pb.CALCULATION_VIEW_BASIC),
            metadata=casework,
            timeout=5,
        )
        for n in asked
    ]
    assert not basic.calculations[0].steps and got.calculations[0].steps

    missing = f"calculations/{uuid.uuid4()}"
    with pytest.raises(grpc.RpcError) as err:
        stub.BatchGetCalculations(
            api.BatchGetCalculationsRequest(names=[stored[0].name, missing]),
            metadata=casework,
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert details_of(err.value)["ResourceInfo"].resource_name == missing

    with pytest.raises(grpc.RpcError) as err:
        stub.BatchGetCalculations(
            api.BatchGetCalculationsRequest(names=[stored[0].name, "cases/x"]),
            metadata=casework,
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["names[1]"]

    with pytest.raises(grpc.RpcError) as err:  # the contract's limit: 1,000 names a call
        stub.BatchGetCalculations(
            api.BatchGetCalculationsRequest(names=[stored[0].name] * 1001),
            metadata=casework,
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["names"]
