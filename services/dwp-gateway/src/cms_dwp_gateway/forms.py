"""Printable forms: the non-automated deduction from benefit request form, as a PDF 1.4 document.

Written by hand (no third-party dependency): A4 portrait, the standard Helvetica fonts with WinAnsiEncoding,
uncompressed text content streams, a cross-reference table with exact byte offsets. Text is encoded as latin-1
(which WinAnsi agrees with from 0xA0 up, so "Siân" and "£8.40" survive); anything else prints as "?".
"""

from __future__ import annotations

import textwrap

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FOOTER_Y = 30
WRAP_CHARS = 90  # a conservative fit of 10pt Helvetica in the text width

# (font resource, size, text) per line, and the vertical space each kind of line takes
_TITLE, _HEADING, _BODY = ("F2", 16, 28), ("F2", 12, 22), ("F1", 10, 14)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string: whitespace controls become spaces, anything WinAnsi cannot show as latin-1 becomes '?'."""
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    safe = "".join(c if 0x20 <= ord(c) < 0x7F or 0xA0 <= ord(c) <= 0xFF else "?" for c in text)
    escaped = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _layout(
    title: str, sections: list[tuple[str, list[tuple[str, str]]]]
) -> list[list[tuple[tuple, int, str]]]:
    """Splits the form into pages of (style, y, text) lines, keeping a section heading with its first line."""
    pages: list[list[tuple[tuple, int, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN

    def put(style: tuple, text: str, keep_with_next: int = 0) -> None:
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


def render_request_form(
    *, title: str, form_reference: str, sections: list[tuple[str, list[tuple[str, str]]]]
) -> bytes:
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
        footer = (
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
