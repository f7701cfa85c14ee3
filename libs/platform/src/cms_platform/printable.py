"""Printable documents: text laid out in lines on A4 pages, written as PDF 1.4 (casework's account statements,
dwp-gateway's deduction request forms). Written by hand, as no dependency is needed for this much: the standard Type 1
fonts with WinAnsiEncoding, uncompressed text streams, a cross-reference table with exact byte offsets. Text is
latin-1, which WinAnsi agrees with from 0xA0 up ("Siân", "£8.40" survive); anything else prints as "?"."""

from __future__ import annotations

from collections.abc import Callable, Sequence

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
FOOTER_Y = 30

# A line: its font resource ("F1" regular, "F2" bold), its size in points, its baseline's height, its text.
Line = tuple[str, int, int, str]


def pdf_string(text: str) -> bytes:
    """A PDF literal string: whitespace controls become spaces, anything WinAnsi cannot show as latin-1 becomes '?'."""
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    safe = "".join(c if 0x20 <= ord(c) < 0x7F or 0xA0 <= ord(c) <= 0xFF else "?" for c in text)
    escaped = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def write_pdf(
    pages: Sequence[Sequence[Line]],
    *,
    title: str,
    producer: str,
    footer: Callable[[int, int], str],
    margin: int,
    font: str = "Helvetica",
    bold_font: str = "Helvetica-Bold",
) -> bytes:
    """The pages as PDF bytes, each line at the left margin, with `footer(page, of)` at the foot of every page."""
    n_pages = len(pages)
    # Objects 1-5 are fixed (catalog, page tree, two fonts, info); each page then takes a page object and its stream.
    page_ids = [6 + 2 * i for i in range(n_pages)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % p for p in page_ids)
        + b"] /Count %d >>" % n_pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
        % font.encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
        % bold_font.encode(),
        b"<< /Title " + pdf_string(title) + b" /Producer " + pdf_string(producer) + b" >>",
    ]
    for number, lines in enumerate(pages, start=1):
        foot: Line = ("F1", 8, FOOTER_Y, footer(number, n_pages))
        content = b"".join(
            b"BT /%s %d Tf %d %d Td %s Tj ET\n" % (f.encode(), size, margin, y, pdf_string(text))
            for f, size, y, text in [*lines, foot]
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
