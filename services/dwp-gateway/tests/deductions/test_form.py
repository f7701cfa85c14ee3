"""The non-automated deduction from benefit request form, read back with an independent PDF parser (pypdf)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from cms_dwp_gateway.deductions.form import render_request_form

TITLE = "Non-automated deduction from benefit request form"
REFERENCE = "CMS-NADB-2026-000123"
SECTIONS = [
    (
        "Paying parent",
        [
            ("Name", "Siân Llewellyn-Price"),
            ("National Insurance number", "AE456789D"),
            ("Date of birth", "14 March 1988"),
        ],
    ),
    (
        "Benefit",
        [
            ("Benefit", "Employment and Support Allowance (income-related)"),
            ("Office", "Jobcentre Plus Cardiff"),
        ],
    ),
    (
        "Deduction",
        [("Weekly amount", "£8.40"), ("Arrears amount", "£3.50"), ("Start date", "5 January 2026")],
    ),
]


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf), strict=True)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in read(pdf).pages]


@pytest.fixture(scope="module")
def form() -> bytes:
    return render_request_form(title=TITLE, form_reference=REFERENCE, sections=SECTIONS)


def test_is_a_pdf_1_4_document_that_opens(form):
    assert form.startswith(b"%PDF-1.4\n")
    assert form.rstrip().endswith(b"%%EOF")
    reader = read(form)
    assert reader.pdf_header == "%PDF-1.4"
    assert len(reader.pages) == 1
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 595, 842]  # A4 portrait
    assert reader.metadata.title == TITLE


def test_xref_offsets_point_at_their_objects(form):
    xref = int(form.rsplit(b"startxref\n", 1)[1].split()[0])
    assert form[xref:].startswith(b"xref\n")
    entries = form[xref:].split(b"\n")[2:]
    count = int(form[xref:].split(b"\n")[1].split()[1])
    for number, entry in enumerate(entries[1:count], start=1):
        assert form[int(entry[:10]) :].startswith(b"%d 0 obj" % number)


def test_has_the_title_every_heading_label_and_value(form):
    text = page_texts(form)[0]
    assert TITLE in text
    for heading, fields in SECTIONS:
        assert heading in text
        for label, value in fields:
            assert f"{label}: {value}" in text
    assert "Siân Llewellyn-Price" in text
    assert "£8.40" in text


def test_footer_has_the_form_reference_on_every_page(form):
    assert all(REFERENCE in text for text in page_texts(form))


def test_a_long_form_spills_onto_further_pages_with_the_reference_on_each():
    sections = [
        (f"Section {s}", [(f"Field {s}.{f}", f"value {s}.{f}") for f in range(10)])
        for s in range(8)
    ]
    pdf = render_request_form(title=TITLE, form_reference=REFERENCE, sections=sections)
    texts = page_texts(pdf)
    assert len(texts) >= 2
    assert all(REFERENCE in text for text in texts)
    assert f"page 1 of {len(texts)}" in texts[0]
    everything = "\n".join(texts)
    for s in range(8):
        for f in range(10):
            assert f"Field {s}.{f}: value {s}.{f}" in everything


def test_parentheses_and_backslashes_survive():
    value = r"C:\cases\(draft) ((nested)) \) end"
    pdf = render_request_form(
        title="Form (copy)", form_reference="REF\\1", sections=[("Notes", [("Path", value)])]
    )
    text = page_texts(pdf)[0]
    assert "Form (copy)" in text
    assert f"Path: {value}" in text
    assert "REF\\1" in text


def test_characters_outside_latin_1_become_question_marks():
    pdf = render_request_form(
        title=TITLE, form_reference=REFERENCE, sections=[("Notes", [("Amount", "€5 – ŵ")])]
    )
    assert "Amount: ?5 ? ?" in page_texts(pdf)[0]
