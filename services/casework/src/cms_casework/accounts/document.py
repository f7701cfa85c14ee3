"""The printable account statement: a PDF 1.4 document written by hand, as dwp-gateway writes its deduction request
form (no third-party dependency; services never import each other, so the few lines of PDF writing are repeated
here): A4 portrait, the standard Helvetica fonts with WinAnsiEncoding, uncompressed text streams, a cross-reference
table with exact byte offsets. Text is latin-1 ("£" survives); anything else prints as "?". It shows what the
statement shows (one side, or both for staff) and nothing more: no name, no address, no bank detail."""

from __future__ import annotations

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import money_events_pb2 as money_ev

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 50
FOOTER_Y = 30
LINE = 13
_VIEW = {
    apb.STATEMENT_VIEW_PAYING_PARENT: "Paying parent",
    apb.STATEMENT_VIEW_RECEIVING_PARENT: "Receiving parent",
    apb.STATEMENT_VIEW_FULL: "Full breakdown (staff)",
}


def _pdf_string(text: str) -> bytes:
    text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    safe = "".join(c if 0x20 <= ord(c) < 0x7F or 0xA0 <= ord(c) <= 0xFF else "?" for c in text)
    return (
        b"("
        + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
        + b")"
    )


def money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}\u00a3{pence // 100:,}.{pence % 100:02d}"


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
        ("F1", 10, f"Opening balance: {money(statement.opening_balance_pence)}", 0),
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
                f"{text[:70]:<70} {money(line.amount_pence):>12} {money(line.balance_pence):>13}",
                0,
            )
        )
    out.append(("F2", 10, f"Closing balance: {money(statement.closing_balance_pence)}", 0))
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
    n_pages = len(pages)
    page_ids = [6 + 2 * i for i in range(n_pages)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % p for p in page_ids)
        + b"] /Count %d >>" % n_pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (Account statement) /Producer (cms-casework) >>",
    ]
    for number, lines in enumerate(pages, start=1):
        footer = ("F1", 8, FOOTER_Y, f"Reference {payment_reference} - page {number} of {n_pages}")
        content = b"".join(
            b"BT /%s %d Tf %d %d Td %s Tj ET\n"
            % (font.encode(), size, MARGIN, y, _pdf_string(text))
            for font, size, y, text in [*lines, footer]
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (PAGE_WIDTH, PAGE_HEIGHT)
            + b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (len(objects) + 2)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
