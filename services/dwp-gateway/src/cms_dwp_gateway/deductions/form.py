"""The printable non-automated deduction from benefit request form: what it says (the instruction's fields, ready
for the benefit office) and the PDF 1.4 document it is printed as.

The PDF is written by hand (no third-party dependency): A4 portrait, the standard Helvetica fonts with WinAnsiEncoding,
uncompressed text content streams, a cross-reference table with exact byte offsets. Text is encoded as latin-1
(which WinAnsi agrees with from 0xA0 up, so "Siân" and "£8.40" survive); anything else prints as "?".
"""

from __future__ import annotations

import datetime as dt
import textwrap

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.convert import full_date

from ..port import PersonRecord

Style = tuple[str, int, int]  # font resource, size, the vertical space a line takes
Section = tuple[str, list[tuple[str, str]]]  # heading, then (label, value) lines

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FOOTER_Y = 30
WRAP_CHARS = 90  # a conservative fit of 10pt Helvetica in the text width

# Each kind of line: its font, its size and the vertical space it takes.
_TITLE: Style = ("F2", 16, 28)
_HEADING: Style = ("F2", 12, 22)
_BODY: Style = ("F1", 10, 14)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string: whitespace controls become spaces, anything WinAnsi cannot show as latin-1 becomes '?'."""
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    safe = "".join(c if 0x20 <= ord(c) < 0x7F or 0xA0 <= ord(c) <= 0xFF else "?" for c in text)
    escaped = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _layout(title: str, sections: list[Section]) -> list[list[tuple[Style, int, str]]]:
    """Splits the form into pages of (style, y, text) lines, keeping a section heading with its first line."""
    pages: list[list[tuple[Style, int, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN

    def put(style: Style, text: str, keep_with_next: int = 0) -> None:
        nonlocal y
        if y - style[2] - keep_with_next < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
        y -= style[2]
        pages[-1].append((style, y, text))

    put(_TITLE, title)
    for heading, fields in sections:
        put(_HEADING, heading, keep_with_next=_BODY[2] if fields else 0)
        for label, value in fields:
            for line in textwrap.wrap(
                f"{label}: {value}", WRAP_CHARS, subsequent_indent="    "
            ) or [""]:
                put(_BODY, line)
    return pages


def render_request_form(*, title: str, form_reference: str, sections: list[Section]) -> bytes:
    """The request form as PDF bytes: title, then each section heading with "label: value" lines, paginated,
    with the form reference and page number in the footer of every page."""
    pages = _layout(title, sections)
    n_pages = len(pages)
    # Objects 1-5 are fixed (catalog, page tree, two fonts, info); each page then takes a page object and its stream.
    page_ids = [6 + 2 * i for i in range(n_pages)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % p for p in page_ids)
        + b"] /Count %d >>" % n_pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title " + _pdf_string(title) + b" /Producer (cms-dwp-gateway) >>",
    ]
    for number, lines in enumerate(pages, start=1):
        footer: tuple[Style, int, str] = (
            ("F1", 8, 0),
            FOOTER_Y,
            f"Form reference: {form_reference} - page {number} of {n_pages}",
        )
        content = b"".join(
            b"BT /%s %d Tf %d %d Td %s Tj ET\n"
            % (font.encode(), size, MARGIN, y, _pdf_string(text))
            for (font, size, _), y, text in [*lines, footer]
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


# -- the DFB request form -------------------------------------------------------------------------------------------

TITLE = "Child maintenance: deduction from benefit request (non-automated)"
BENEFIT_OFFICE = pb.BenefitOffice(
    name="Pension, Disability and Carers Service (DFB clerical team)",
    address=common.Address(
        lines=["Mail Handling Site A"], post_town="WOLVERHAMPTON", postcode="WV98 1AA"
    ),
)


def _name(p: PersonRecord | None) -> str:
    return f"{p.forenames} {p.surname}" if p else "(not on CIS)"


def _money(pence: int) -> str:
    return f"\u00a3{pence // 100:,}.{pence % 100:02d}"


def _words(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).replace("_", " ")


def sections(
    d: pb.Deduction,
    instruction: pb.DeductionInstruction,
    *,
    payer: PersonRecord | None,
    beneficiary: PersonRecord | None,
) -> list[Section]:
    """What the form says: the case, both people as CIS holds them, the benefit, the deduction asked for, and what
    the benefit office returns."""
    terms = instruction.requested_terms
    frequency = (
        common.PaymentFrequency.Name(terms.deduction_amount.frequency)
        .removeprefix("PAYMENT_FREQUENCY_")
        .replace("_", "-")
        .lower()
    )
    kind = pb.DeductionInstructionKind.Name(instruction.kind)
    benefit = pb.BenefitType.Name(terms.benefit_type)
    deduction_type = pb.DeductionType.Name(terms.deduction_type)
    return [
        (
            "Case",
            [
                ("CMS case", d.case_id),
                ("Deduction", d.deduction_id),
                ("Instruction", _words(kind, "DEDUCTION_INSTRUCTION_KIND_").lower()),
            ],
        ),
        (
            "Paying parent",
            [("Name", _name(payer)), ("National Insurance number", d.paying_parent_nino)],
        ),
        (
            "Benefit to deduct from",
            [
                ("Name", _name(beneficiary)),
                ("National Insurance number", d.beneficiary_nino),
                ("Benefit", _words(benefit, "BENEFIT_TYPE_").title()),
                ("Award", terms.award_id),
            ],
        ),
        (
            "Deduction",
            [
                ("Type", _words(deduction_type, "DEDUCTION_TYPE_").lower()),
                (
                    "Amount each payment",
                    f"{_money(terms.deduction_amount.amount_pence)} ({frequency})",
                ),
                ("Child maintenance", _money(terms.maintenance_pence)),
                ("Collection fee", _money(terms.collection_fee_pence)),
                ("Effective from", full_date(terms.start_date, "start_date").strftime("%d %B %Y")),
            ],
        ),
        (
            "Return to the CMS",
            [
                ("Quote this reference", instruction.form_reference),
                (
                    "Decision",
                    "accepted with amount and first deduction date, or rejected with reason",
                ),
            ],
        ),
    ]


def request_form(
    d: pb.Deduction,
    instruction: pb.DeductionInstruction,
    *,
    payer: PersonRecord | None,
    beneficiary: PersonRecord | None,
    now: dt.datetime,
) -> pb.DeductionRequestForm:
    """The instruction's request form, printed, addressed to the benefit office."""
    pdf = render_request_form(
        title=TITLE,
        form_reference=instruction.form_reference,
        sections=sections(d, instruction, payer=payer, beneficiary=beneficiary),
    )
    out = pb.DeductionRequestForm(
        form_reference=instruction.form_reference,
        deduction_id=d.deduction_id,
        instruction_id=instruction.instruction_id,
        kind=instruction.kind,
        benefit_office=BENEFIT_OFFICE,
        pdf_content=pdf,
        content_type="application/pdf",
        file_name=f"DFB-{instruction.form_reference}.pdf",
    )
    out.generate_time.FromDatetime(now)
    return out
