"""The printable account statement (cms_platform.printable writes the PDF): A4 pages of fixed-width lines. It shows what
the statement shows (one side, or both for staff) and nothing more: no name, no address, no bank detail."""

from __future__ import annotations

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import money_events_pb2 as money_ev
from cms_platform import printable
from cms_platform.printable import PAGE_HEIGHT

from ..wording import pounds

MARGIN = 50
LINE = 13
_VIEW = {
    apb.STATEMENT_VIEW_PAYING_PARENT: "Paying parent",
    apb.STATEMENT_VIEW_RECEIVING_PARENT: "Receiving parent",
    apb.STATEMENT_VIEW_FULL: "Full breakdown (staff)",
}


def _date(d: object) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"  # type: ignore[attr-defined]


def _rows(
    statement: apb.AccountStatement, payment_reference: str
) -> list[tuple[str, int, str, int]]:
    """(font, size, text, x) lines top to bottom; x is 0 for the margin."""
    out: list[tuple[str, int, str, int]] = [
        ("F2", 15, "Child Maintenance Service: account statement", 0),
        ("F1", 10, f"Payment reference: {payment_reference}", 0),
        ("F1", 10, f"View: {_VIEW.get(statement.view, '')}", 0),
        ("F1", 10, f"From {_date(statement.since)} to {_date(statement.as_of)}", 0),
        ("F1", 10, f"Opening balance: {pounds(statement.opening_balance_pence)}", 0),
        (
            "F2",
            10,
            "Date        Entry                                                    Amount       Balance",
            0,
        ),
    ]
    for line in statement.lines:
        kind = money_ev.LedgerEntryKind.Name(line.kind).removeprefix("LEDGER_ENTRY_KIND_")
        text = f"{_date(line.effective_date)}  {line.description or kind.replace('_', ' ').lower()}"
        out.append(
            (
                "F1",
                9,
                f"{text[:70]:<70} {pounds(line.amount_pence):>12} {pounds(line.balance_pence):>13}",
                0,
            )
        )
    out.append(("F2", 10, f"Closing balance: {pounds(statement.closing_balance_pence)}", 0))
    return out


def render_statement(statement: apb.AccountStatement, *, payment_reference: str) -> bytes:
    """The statement as PDF bytes, paginated, with the reference and page number in each page's footer."""
    pages: list[list[tuple[str, int, int, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN
    for font, size, text, _ in _rows(statement, payment_reference):
        if y - LINE < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
        y -= LINE if size < 15 else 24
        pages[-1].append((font, size, y, text))
    return printable.write_pdf(
        pages,
        title="Account statement",
        producer="cms-casework",
        footer=lambda number, of: f"Reference {payment_reference} - page {number} of {of}",
        margin=MARGIN,
        font="Courier",  # fixed width keeps the amounts in their columns
        bold_font="Courier-Bold",
    )
