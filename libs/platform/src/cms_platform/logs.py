"""Structured JSON logs with the correlation id and the current trace/span ids on every line, and no personal data:
one processor (cms_platform.redaction) masks it in every line, ours and the libraries' (stdlib logging) alike."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from opentelemetry import trace
from structlog.typing import EventDict

from .redaction import redact, redact_text


def _add_trace_ids(_logger: object, _name: str, event_dict: EventDict) -> EventDict:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def redact_personal_data(_logger: object, _name: str, event_dict: EventDict) -> EventDict:
    """The last step before rendering: values under personal keys masked, every other value (the event, bound
    context, formatted exceptions) scanned for NINOs, CRNs and postcodes."""
    return redact(event_dict)


_stdlib_factory = logging.getLogRecordFactory()


def _redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Library records (grpc, kafka, alembic, sqlalchemy) are redacted as they are made, so every handler (ours,
    a test's) sees the same safe text; only records that pass the level check are made."""
    record = _stdlib_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is the library's bug, not a reason to leak
        message = str(record.msg)
    record.msg, record.args = redact_text(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


def configure_logging(*, service: str, level: str = "INFO", fmt: str = "json") -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_ids,
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Library loggers (kafka, alembic, grpc) go through stdlib at WARNING so they don't drown ours.
    if logging.getLogRecordFactory() is not _redacted_record:
        logging.setLogRecordFactory(_redacted_record)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
