"""The printable non-automated deduction from benefit request form: what it says (the instruction's fields, ready
for the benefit office) and the PDF 1.4 document it is printed as.

The PDF is written by cms_platform.printable (A4, Helvetica, latin-1 text: "Siân" and "£8.40" survive).
"""

from __future__ import annotations

import datetime as dt
import textwrap

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import printable
from cms_platform.convert import full_date
from cms_platform.printable import PAGE_HEIGHT

from ..port import PersonRecord

Style = tuple[str, int, int]  # font resource, size, the vertical space a line takes
Section = tuple[str, list[tuple[str, str]]]  # heading, then (label, value) lines

MARGIN = 56
WRAP_CHARS = 90  # a conservative fit of 10pt Helvetica in the text width

# Each kind of line: its font, its size and the vertical space it takes.
_TITLE: Style = ("F2", 16, 28)
_HEADING: Style = ("F2", 12, 22)
_BODY: Style = ("F1", 10, 14)


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
    return printable.write_pdf(
        [[(font, size, y, text) for (font, size, _), y, text in page] for page in pages],
        title=title,
        producer="cms-dwp-gateway",
        footer=lambda number, of: f"Form reference: {form_reference} - page {number} of {of}",
        margin=MARGIN,
    )


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
