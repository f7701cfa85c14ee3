"""Redaction: NINO/CRN and postcode patterns masked in any text, personal keys masked whole, errors' excerpts echo only
our own ids; and the rules applied where data leaves: log lines, library records, SQL errors, exported spans."""

from __future__ import annotations

import io
import json
import logging
import traceback
import uuid
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cms_platform import identifiers, logs
from cms_platform.db import make_engine
from cms_platform.errors import AlreadyExists, NotFound
from cms_platform.redaction import (
    MASK,
    WITHHELD,
    contains_personal_pattern,
    excerpt,
    own_id,
    personal_key,
    redact,
    redact_text,
)
from cms_platform.telemetry import RedactingExporter

prefixes = st.sampled_from(
    [a + b for a in identifiers.FIRST_LETTERS for b in identifiers.SECOND_LETTERS]
)
ninos = st.builds(
    lambda p, d, s: f"{p}{d:06d}{s}",
    prefixes,
    st.integers(0, 999_999),
    st.sampled_from("ABCD"),
)
postcodes = st.builds(
    lambda area, district, sector, unit: f"{area}{district} {sector}{unit}",
    st.sampled_from(["SW", "E", "M", "B", "EH", "CF", "BT", "LS"]),
    st.integers(1, 99),
    st.integers(0, 9),
    st.sampled_from(["AA", "XY", "NB", "QT"]),
)
# Surrounding text that is not a word or number run of its own ends.
padding = st.text(alphabet=st.sampled_from(" :,;'\"/()[]{}=-|"), max_size=3)


@given(ninos, padding, padding)
def test_a_nino_in_any_text_is_masked_in_every_written_form(nino, before, after):
    for form in (nino, nino.lower(), identifiers.format_nino(nino)):
        out = redact_text(f"{before}{form}{after}")
        assert form not in out and MASK in out


@given(postcodes, padding, padding)
def test_a_postcode_is_masked_with_or_without_its_space(postcode, before, after):
    for form in (postcode, postcode.replace(" ", ""), postcode.lower()):
        out = redact_text(f"{before}{form}{after}")
        assert form not in out and MASK in out


@given(ninos)
def test_an_id_built_from_a_nino_is_masked(nino):
    assert nino not in redact_text(f"'{nino}-E2' is not one of this person's employments")
    assert nino not in redact_text(f"people/{nino}")


def test_what_is_not_personal_stays_readable():
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    cid = str(uuid.uuid4())
    for line in (
        trace_id,
        cid,
        "/cms.hmrc.v1.HmrcService/GetIncome",
        "rpc refused",
        "weekly amount £12.50 for 2 children",
        "2026-12-06T10:27:00Z",
    ):
        assert redact_text(line) == line


@given(st.uuids())
def test_uuids_are_never_mistaken_for_personal_data(u):
    assert redact_text(str(u)) == str(u)
    assert redact_text(u.hex) == u.hex


def test_personal_keys_are_masked_whole_and_others_scanned_recursively():
    event = {
        "event": "matched AB123456C at SW1A 1AA",
        "surname": "Smith",
        "forenames": "Jo Ann",
        "address": {"line1": "1 High Street"},
        "date_of_birth": "1990-01-02",
        "claimant_nino": "AB123456C",
        "code": "OK",
        "count": 3,
        "nested": [{"name": "Jo"}, ("QQ 12 34 56 C", None)],
        "exception": "ValueError: no such person AB123456C",
        "empty_name": "",
    }
    out = redact(event)
    text = repr(out)
    for secret in (
        "AB123456C",
        "SW1A 1AA",
        "Smith",
        "Jo Ann",
        "High Street",
        "1990-01-02",
        "QQ 12",
    ):
        assert secret not in text
    assert out["code"] == "OK" and out["count"] == 3
    assert out["surname"] == MASK and out["nested"][0]["name"] == MASK
    assert out["event"] == f"matched {MASK} at {MASK}"


def test_exceptions_and_objects_are_redacted_by_their_text():
    assert redact(ValueError("AB123456C")) == f"ValueError: {MASK}"
    assert "AB123456C" not in redact(
        object.__new__(type("P", (), {"__repr__": lambda s: "AB123456C"}))
    )


@given(
    st.recursive(
        st.text() | st.integers() | st.none(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_redact_never_fails_and_never_grows_a_nino(value):
    out = redact(value)
    assert not contains_personal_pattern_in(out)


def contains_personal_pattern_in(value) -> bool:
    if isinstance(value, str):
        return contains_personal_pattern(value)
    if isinstance(value, dict):
        return any(contains_personal_pattern_in(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_personal_pattern_in(v) for v in value)
    return False


def test_personal_key_names():
    for key in (
        "name",
        "surname",
        "forenames",
        "postcode",
        "date_of_birth",
        "claimant_nino",
        "address_line_1",
        "paying_parent.identity.nino",
        "Surname",
        "dob",
    ):
        assert personal_key(key), key
    for key in (
        "event",
        "code",
        "rpc",
        "caller",
        "correlation_id",
        "service",
        "reason",
        "duration_ms",
    ):
        assert not personal_key(key), key


def test_excerpt_echoes_our_own_ids_only():
    cid = str(uuid.uuid4())
    for ours in (
        cid,
        f"cases/{cid}",
        f"cases/{cid}/paymentPlans/{cid}",
        "case-surveillances/42",
        "emp_3f9a0c1e22b4d5f6",
        "cis-0a1b2c3d4e5f60718293",
        "3f9a0c1e",
    ):
        assert own_id(ours), ours
        assert excerpt(ours) == f"'{ours}'"
    for theirs in (
        "Jo Smith",
        "case-surveillances/Jo Smith",
        "people/AB123456C",
        "AB123456C-E2",
        "SW1A 1AA",
        "cases/smith",
        f"cases/{cid}/x",
        "cases/" + "1" * 200,
        "",
        "cases/facade",
        "ann-stephenson",
        "de-montmorency",
    ):
        assert excerpt(theirs) == WITHHELD, theirs
    assert excerpt(12) == WITHHELD


@given(st.text())
def test_excerpt_never_says_a_nino_or_postcode(value):
    out = excerpt(value)
    assert out == WITHHELD or (own_id(value) and out == f"'{value}'")
    assert not contains_personal_pattern(out)


def test_not_found_and_already_exists_withhold_a_callers_value():
    assert (
        str(NotFound("case surveillance", "case-surveillances/Jo Smith"))
        == "case surveillance (value withheld) not found"
    )
    assert "AB123456C" not in str(AlreadyExists("person", "people/AB123456C"))
    assert str(NotFound("case", "cases/42")) == "case 'cases/42' not found"


# -- where the rules are applied: log lines, library records, SQL errors, exported spans -------------------------


@pytest.fixture
def configured_logs() -> Iterator[tuple[io.StringIO, list[str]]]:
    """Logging as a service configures it, our lines into a buffer and the libraries' into a list."""
    factory = logging.getLogRecordFactory()
    logs.configure_logging(service="test", level="DEBUG")
    out = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=out))
    lines: list[str] = []
    handler = logging.Handler()
    formatter = logging.Formatter("%(message)s")
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    yield out, lines
    root.removeHandler(handler)
    logging.setLogRecordFactory(factory)
    structlog.reset_defaults()


def _raise(message: str) -> None:
    raise LookupError(message)


def test_a_log_line_keeps_no_personal_data_in_fields_context_or_traceback(configured_logs):
    out, _ = configured_logs
    structlog.contextvars.bind_contextvars(correlation_id="AB123456C")
    try:
        _raise("no person AB 12 34 56 C at SW1A 1AA")
    except LookupError as exc:
        structlog.get_logger("t").error(
            "lookup of AB123456C failed",
            exc_info=exc,
            surname="Smith",
            claimant={"forenames": "Jo Ann", "postcode": "SW1A 1AA", "age": 40},
        )
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")
    line = json.loads(out.getvalue().splitlines()[-1])
    text = json.dumps(line)
    for secret in ("AB123456C", "AB 12 34 56 C", "SW1A 1AA", "Smith", "Jo Ann"):
        assert secret not in text
    assert line["event"] == f"lookup of {MASK} failed"
    assert "LookupError" in line["exception"] and line["claimant"]["age"] == 40


def test_library_records_are_redacted_message_arguments_and_traceback(configured_logs):
    _, lines = configured_logs
    try:
        _raise("AB123456C")
    except LookupError:
        logging.getLogger("some.library").warning(
            "matching %s in %s", "AB123456C", "LS6 1DL", exc_info=True
        )
    assert lines and "AB123456C" not in lines[-1] and "LS6 1DL" not in lines[-1]
    assert "LookupError" in lines[-1] and f"matching {MASK} in {MASK}" in lines[-1]


def test_sql_errors_never_show_their_parameters_or_the_rows_values(database_url):
    nino = "AB123456C"
    engine = make_engine(database_url("redaction"))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE people (nino VARCHAR(20) PRIMARY KEY, born INT CHECK (born > 0))"
                )
            )
            conn.execute(text("INSERT INTO people VALUES (:n, 1)"), {"n": nino})
        for statement in (
            "INSERT INTO people VALUES (:n, 1)",
            "INSERT INTO people VALUES (:n || 'X', -1)",
        ):
            with pytest.raises(IntegrityError) as err, engine.begin() as conn:
                conn.execute(text(statement), {"n": nino})
            told = "".join(traceback.format_exception(err.value))  # the driver's error too
            assert nino not in told and "INSERT INTO people" in told
    finally:
        engine.dispose()


def test_spans_leave_the_process_without_personal_data():
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(spans)))
    with provider.get_tracer("t").start_as_current_span(
        "lookup AB123456C",
        attributes={"person.surname": "Smith", "note": "at SW1A 1AA", "count": 2},
    ) as span:
        span.record_exception(LookupError("no person AB123456C"))
        span.add_event("looked up", {"nino": "AB123456C"})
        span.set_status(Status(StatusCode.ERROR, "person 'AB123456C' not found"))
    (got,) = spans.get_finished_spans()
    text = repr(
        (
            got.name,
            dict(got.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in got.events],
            got.status.description,
        )
    )
    for secret in ("AB123456C", "Smith", "SW1A 1AA"):
        assert secret not in text
    assert got.attributes["count"] == 2 and got.status.status_code is StatusCode.ERROR
    assert any(e.name == "exception" and "LookupError" in str(e.attributes) for e in got.events)
