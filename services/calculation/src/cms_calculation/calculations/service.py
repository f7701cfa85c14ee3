"""Calculation decisions: make one (stored, with its CalculationCreated event, or a what-if), find them, explain
one as a statement, and run a bulk batch. Keyword-only functions over an explicit session; no gRPC here: a bulk
item's refusal is its domain error in its ItemOutcome, turned into a status by the servicer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import psycopg
from google.protobuf.message import Message
from sqlalchemy import ColumnElement, String, any_, bindparam, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import events_pb2
from cms.calculation.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import full_date
from cms_platform.db import Base
from cms_platform.errors import DomainError, FieldViolation, InvalidArgument, NotFound
from cms_platform.idempotency import caller_key, request_hash, run_idempotent
from cms_platform.models import IdempotentRequest
from cms_platform.paging import next_token, page
from cms_platform.validation import request_violations

from ..engine.calculate import calculate
from ..engine.model import CalculationResult
from ..engine.rules import RuleBook, RuleSet
from ..rule_sets import service as rule_sets
from . import convert
from .models import StoredCalculation
from .statements import render_statement

# The idempotency table's key space for stored bulk items (each remembered by its own request_id). Rows already
# stored under it are what make a re-sent item a replay, so the value never changes, whatever the RPC is called.
BULK_METHOD = "BulkCalculate"
MAX_BULK_ITEMS = 1000


def evaluate(
    *,
    request_input: pb.CalculationInput,
    rule_book: RuleBook,
    rule_set_version: str = "",
    explain: bool = True,
) -> tuple[CalculationResult, RuleSet]:
    """Run the engine under the named rule set, or the one in force at the effective date."""
    facts = convert.facts_from_input(request_input)
    if rule_set_version:
        rules = rule_sets.find(rule_book=rule_book, version=rule_set_version)
    else:
        in_force = rule_book.in_force(facts.effective_date)
        if in_force is None:
            first = rule_book.rule_sets[0].scheme_start
            raise InvalidArgument.field(
                "input.effective_date", f"is before the 2012 scheme started ({first:%d %B %Y})"
            )
        rules = in_force
    return calculate(facts, rules, explain=explain), rules


def preview(
    *,
    request_input: pb.CalculationInput,
    case_reference: str,
    rule_set_version: str,
    rule_book: RuleBook,
    clock: Clock,
    full: bool = True,
) -> pb.Calculation:
    result, rules = evaluate(
        request_input=request_input,
        rule_book=rule_book,
        rule_set_version=rule_set_version,
        explain=full,
    )
    return convert.calculation_message(
        name="",
        case_reference=case_reference,
        reason=pb.CALCULATION_REASON_UNSPECIFIED,
        request_input=request_input,
        result=result,
        rules=rules,
        created=clock.now(),
        full=full,
    )


def create(
    *,
    db_session: Session,
    case_reference: str,
    request_input: pb.CalculationInput,
    reason: pb.CalculationReason.ValueType,
    rule_book: RuleBook,
    clock: Clock,
) -> pb.Calculation:
    """Calculate, store the decision and record CalculationCreated, all in the caller's transaction."""
    decision = _decide(
        case_reference=case_reference,
        request_input=request_input,
        reason=reason,
        rule_book=rule_book,
        now=clock.now(),
    )
    db_session.add(StoredCalculation(**decision.row))
    outbox.publish(
        db_session,
        clock=clock,
        key=decision.key,
        subject=decision.calc.name,
        message=decision.event,
    )
    return decision.calc


@dataclass(frozen=True)
class _Decision:
    """A decision ready to store: the Calculation, its calculations row (the message serialized once) and its
    CalculationCreated event under the case's key."""

    calc: pb.Calculation
    row: dict[str, Any]
    key: str
    event: events_pb2.CalculationCreated


def _decide(
    *,
    case_reference: str,
    request_input: pb.CalculationInput,
    reason: pb.CalculationReason.ValueType,
    rule_book: RuleBook,
    now: dt.datetime,
) -> _Decision:
    """Everything a stored decision writes, without writing it: create() adds it to a session, a stored bulk batch
    inserts a whole batch of them at once."""
    result, rules = evaluate(request_input=request_input, rule_book=rule_book)
    calc_id = str(uuid.uuid4())
    calc = convert.calculation_message(
        name=f"calculations/{calc_id}",
        case_reference=case_reference,
        reason=reason,
        request_input=request_input,
        result=result,
        rules=rules,
        created=now,
    )
    row = dict(
        id=calc_id,
        case_reference=case_reference,
        # Checked by evaluate() already: a whole calendar date.
        effective_date=full_date(request_input.effective_date, "input.effective_date"),
        rate=result.rate.value,
        rule_set_version=result.rule_set_version,
        calculation=calc.SerializeToString(),
        created_at=now,
    )
    event = events_pb2.CalculationCreated(
        case_reference=case_reference,
        calculation=calc.name,
        paying_parent_reference=request_input.paying_parent_reference,
        reason=reason,
        effective_date=calc.effective_date,
        rate=calc.rate,
        gross_weekly_income_pence=calc.gross_weekly_income_pence,
        weekly_amount_pence=calc.weekly_amount_pence,
        receiving_parent_amounts=calc.receiving_parent_amounts,
        child_amounts=calc.child_amounts,
        periodic_amounts=calc.periodic_amounts,
        payment_frequency=calc.payment_frequency,
        service_type=request_input.service_type,
        collection_fees=calc.collection_fees,
        rule_set_version=calc.rule_set_version,
        create_time=calc.create_time,
    )
    # The case's resource name: one case's decisions in order.
    return _Decision(calc, row, f"cases/{case_reference}", event)


def _parse(row: StoredCalculation) -> pb.Calculation:
    calc = pb.Calculation()
    calc.ParseFromString(row.calculation)
    return calc


def get(*, db_session: Session, name: str) -> pb.Calculation:
    prefix = "calculations/"
    if not name.startswith(prefix) or not name[len(prefix) :]:
        raise InvalidArgument.field("name", "must look like calculations/{calculation_id}")
    row = db_session.get(StoredCalculation, name[len(prefix) :])
    if row is None:
        raise NotFound("calculation", name)
    return _parse(row)


def batch_get(*, db_session: Session, names: list[str]) -> list[pb.Calculation]:
    """The stored calculations `names` (AIP-231): one per name, in order, read in one query; an unknown name fails
    the whole read (NOT_FOUND naming the first), so a caller never mistakes a short answer for a full one."""
    prefix = "calculations/"
    ids = []
    for i, name in enumerate(names):
        if not name.startswith(prefix) or not name[len(prefix) :]:
            raise InvalidArgument.field(
                f"names[{i}]", "must look like calculations/{calculation_id}"
            )
        ids.append(name[len(prefix) :])
    rows = {
        row.id: row
        for row in db_session.scalars(
            select(StoredCalculation).where(StoredCalculation.id.in_(set(ids)))
        )
    }
    for calc_id, name in zip(ids, names, strict=True):
        if calc_id not in rows:
            raise NotFound("calculation", name)
    return [_parse(rows[calc_id]) for calc_id in ids]


def list_for_case(
    *, db_session: Session, case_reference: str, page_size: int, page_token: str
) -> tuple[list[pb.Calculation], str]:
    size, offset = page(page_size, page_token)
    rows = db_session.scalars(
        select(StoredCalculation)
        .where(StoredCalculation.case_reference == case_reference)
        .order_by(
            StoredCalculation.effective_date.desc(),
            StoredCalculation.created_at.desc(),
            StoredCalculation.id,
        )
        .offset(offset)
        .limit(size + 1)
    ).all()
    token = next_token(offset + size) if len(rows) > size else ""
    return [_parse(r) for r in rows[:size]], token


def statement(
    *,
    db_session: Session,
    name: str,
    audience: pb.StatementAudience.ValueType,
    receiving_parent_reference: str = "",
) -> pb.CalculationStatement:
    """The stored calculation `name` explained to `audience` (a receiving parent's: their part only)."""
    return render_statement(
        get(db_session=db_session, name=name), audience, receiving_parent_reference
    )


# ------------------------------------------------------------------------------------------------------------------
# Bulk
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemOutcome:
    """One bulk item's result: a Calculation or the domain error that refused it."""

    item: api.BulkCalculateItem
    calculation: pb.Calculation | None = None
    error: DomainError | None = None


def check_batch(request: api.BulkCalculateRequest) -> None:
    if not 1 <= len(request.items) <= MAX_BULK_ITEMS:
        raise InvalidArgument.field("items", f"send 1 to {MAX_BULK_ITEMS} items per message")


def _check_item(item: api.BulkCalculateItem) -> None:
    """The item's own fields. The input's required fields are checked by the conversion and the engine (the same
    paths the generic validation names), so the generic walk over every input is not repeated at bulk volumes."""
    violations = []
    try:
        uuid.UUID(item.request_id)
    except ValueError:
        violations.append(
            FieldViolation("request_id", "is required and must be a UUID (the idempotency key)")
        )
    if not item.case_reference.strip():
        violations.append(FieldViolation("case_reference", "is required"))
    if not item.HasField("input"):
        violations.append(FieldViolation("input", "is required"))
    if item.rule_set_version and not item.what_if:
        violations.append(FieldViolation("rule_set_version", "is only allowed on what-if items"))
    # The contract's limits (money at most £1bn, string lengths, enum values), so an out-of-range item is this
    # item's INVALID_ARGUMENT, not an overflow later.
    violations.extend(request_violations(item, required=False))
    if violations:
        raise InvalidArgument(violations)


def _viewed(calc: pb.Calculation, item: api.BulkCalculateItem) -> pb.Calculation:
    return calc if item.view == pb.CALCULATION_VIEW_FULL else convert.basic_view(calc)


class Decided(NamedTuple):
    """A stored item decided in a worker process, in the form the service process writes and answers it without
    parsing or serializing the decision again: the calculations row (the Calculation serialized in it), the
    CalculationCreated event serialized, the item's request hash, and the Calculation in the view the item asked for
    when that is not the row's (FULL: None)."""

    row: dict[str, Any]
    event: bytes
    request_hash: str
    view: bytes | None


def decide_batch(
    *, items: list[api.BulkCalculateItem], rule_book: RuleBook, created: dt.datetime
) -> list[Decided | None]:
    """In a bulk worker process: every stored item's decision, made ahead of the service process's write (the
    calculation is most of a stored item's cost; the write needs the database, so stays in the service process).
    Nothing here is stored or final: an item whose request id turns out to be known is answered from the database.
    None where the item is refused: the service process decides it again, to give the refusal itself."""
    out: list[Decided | None] = []
    for item in items:
        try:
            _check_item(item)
            if item.what_if:
                raise ValueError("decide_batch takes stored items only")
            decision = _decide(
                case_reference=item.case_reference,
                request_input=item.input,
                reason=item.reason,
                rule_book=rule_book,
                now=created,
            )
        except DomainError:
            out.append(None)
            continue
        out.append(
            Decided(
                decision.row,
                decision.event.SerializeToString(),
                request_hash(item),
                None
                if item.view == pb.CALCULATION_VIEW_FULL
                else convert.basic_view(decision.calc).SerializeToString(),
            )
        )
    return out


def bulk_batch(
    *,
    sessions: sessionmaker[Session] | None,
    items: list[api.BulkCalculateItem],
    rule_book: RuleBook,
    clock: Clock,
    decided: list[Decided | None] | None = None,
) -> list[ItemOutcome]:
    """One batch: what-ifs calculated directly; stored items in one transaction with their events and request ids
    (so a re-sent batch, or a re-sent item, stores nothing new). Without `sessions` (a worker process) the batch
    must be what-ifs only. `decided`: a stored batch's decisions made by decide_batch() in a worker, item by item."""
    outcomes: list[ItemOutcome | None] = [None] * len(items)
    stored: list[int] = []
    for n, item in enumerate(items):
        try:
            if decided is not None and decided[n] is not None:
                stored.append(n)  # checked in the worker
                continue
            _check_item(item)
            if item.what_if:
                outcomes[n] = ItemOutcome(
                    item,
                    preview(
                        request_input=item.input,
                        case_reference=item.case_reference,
                        rule_set_version=item.rule_set_version,
                        rule_book=rule_book,
                        clock=clock,
                        full=item.view == pb.CALCULATION_VIEW_FULL,
                    ),
                )
            else:
                stored.append(n)
        except DomainError as exc:
            outcomes[n] = ItemOutcome(item, error=exc)
    if stored:
        if sessions is None:
            raise ValueError("stored bulk items need the database: run them in the service process")
        try:
            _store_batch(sessions, items, stored, outcomes, rule_book, clock, decided)
        except IntegrityError:
            # A concurrent run stored some of these request ids first: settle each item on its own.
            for n in stored:
                outcomes[n] = _store_one(sessions, items[n], rule_book, clock)
    return cast(list[ItemOutcome], outcomes)  # every slot is filled by now


def _store_batch(
    sessions: sessionmaker[Session],
    items: list[api.BulkCalculateItem],
    stored: list[int],
    outcomes: list[ItemOutcome | None],
    rule_book: RuleBook,
    clock: Clock,
    decided: list[Decided | None] | None = None,
) -> None:
    """The batch's new decisions, events and remembered request ids as one multi-row insert per table, in one
    transaction: the same rows create() and remember() would add one object at a time."""
    with sessions.begin() as s:
        ids = list({items[n].request_id for n in stored})
        known = {
            r.request_id: r
            for r in s.scalars(
                select(IdempotentRequest).where(
                    IdempotentRequest.method == BULK_METHOD, _among(s, ids)
                )
            )
        }
        caller = caller_key()
        # Request ids decided earlier in this batch: their hash and their Calculation, serialized.
        done: dict[str, tuple[str, bytes]] = {}
        calculations: list[dict[str, Any]] = []
        events: list[tuple[str, str, Message]] = []
        requests: list[dict[str, Any]] = []
        for n in stored:
            item = items[n]
            ahead = decided[n] if decided is not None else None
            digest = ahead.request_hash if ahead is not None else request_hash(item)
            previous = known.get(item.request_id)
            if previous is not None and previous.caller != caller:
                # Another caller's item: refused, and its stored answer is not given out.
                outcomes[n] = ItemOutcome(
                    item,
                    error=InvalidArgument.field(
                        "request_id", "was already used by another caller; use a new id"
                    ),
                )
                continue
            if previous is not None or item.request_id in done:
                first_hash, calc = (
                    (previous.request_hash, _replayed(previous))
                    if previous is not None
                    else (
                        done[item.request_id][0],
                        pb.Calculation.FromString(done[item.request_id][1]),
                    )
                )
                outcomes[n] = (
                    ItemOutcome(item, _viewed(calc, item))
                    if first_hash == digest
                    else ItemOutcome(
                        item,
                        error=InvalidArgument.field(
                            "request_id", "was already used for a different item"
                        ),
                    )
                )
                continue
            if ahead is not None:
                # Decided in a worker: written and answered from its bytes, nothing decided again.
                row = ahead.row
                events.append(
                    (
                        f"cases/{item.case_reference}",
                        f"calculations/{row['id']}",
                        events_pb2.CalculationCreated.FromString(ahead.event),
                    )
                )
                answer = pb.Calculation.FromString(
                    ahead.view if ahead.view is not None else row["calculation"]
                )
            else:
                try:
                    # Not decided ahead (or refused in the worker: deciding again raises its own error).
                    decision = _decide(
                        case_reference=item.case_reference,
                        request_input=item.input,
                        reason=item.reason,
                        rule_book=rule_book,
                        now=clock.now(),
                    )
                except DomainError as exc:
                    outcomes[n] = ItemOutcome(item, error=exc)
                    continue
                row = decision.row
                events.append((decision.key, decision.calc.name, decision.event))
                answer = _viewed(decision.calc, item)
            calculations.append(row)
            # What remember() stores: the answer is the decision itself, already serialized for its row.
            requests.append(
                dict(
                    method=BULK_METHOD,
                    request_id=item.request_id,
                    request_hash=digest,
                    caller=caller[:200],
                    response=row["calculation"],
                    created_at=row["created_at"],
                )
            )
            done[item.request_id] = (digest, row["calculation"])
            outcomes[n] = ItemOutcome(item, answer)
        if calculations:
            _insert(s, StoredCalculation, calculations)
            outbox.publish_many(s, clock=clock, events_=events)
            _insert(s, IdempotentRequest, requests)


def _among(s: Session, ids: list[str]) -> ColumnElement[bool]:
    """IdempotentRequest.request_id is one of `ids`: on PostgreSQL one array parameter (= ANY), not the thousand
    bound parameters IN would render, send and plan for a full batch."""
    if s.connection().dialect.name == "postgresql":
        return IdempotentRequest.request_id == any_(
            bindparam("ids", ids, type_=postgresql.ARRAY(String))
        )
    return IdempotentRequest.request_id.in_(ids)


def _insert(s: Session, table: type[Base], rows: list[dict[str, Any]]) -> None:
    """A batch's rows into `table`'s table, in the session's transaction: COPY on PostgreSQL (one stream for the batch, no
    statement per row), one executemany INSERT elsewhere. A row already there is an IntegrityError either way."""
    connection = s.connection()
    if connection.dialect.name != "postgresql":
        s.execute(insert(table), rows)
        return
    columns = list(rows[0])
    for row in rows:  # what the column types would bind: UTC instants
        row["created_at"] = row["created_at"].astimezone(dt.UTC)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    statement = f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from None


def _replayed(row: IdempotentRequest) -> pb.Calculation:
    calc = pb.Calculation()
    calc.ParseFromString(row.response)
    return calc


def _store_one(
    sessions: sessionmaker[Session], item: api.BulkCalculateItem, rule_book: RuleBook, clock: Clock
) -> ItemOutcome:
    try:
        calc = run_idempotent(
            sessions,
            method=BULK_METHOD,
            request=item,
            response_type=pb.Calculation,
            clock=clock,
            execute=lambda s: create(
                db_session=s,
                case_reference=item.case_reference,
                request_input=item.input,
                reason=item.reason,
                rule_book=rule_book,
                clock=clock,
            ),
        )
        return ItemOutcome(item, _viewed(calc, item))
    except DomainError as exc:
        return ItemOutcome(item, error=exc)
