"""An invoice as a PDF (SPEC §11), drawn with fpdf2 from the neutral ``InvoiceDocument``.

Text needs a Unicode font for "Seats 3 → 8, Jan 16 – Feb 1" and currency symbols: DejaVu Sans
is used where the system has it (Debian's ``fonts-dejavu-core``), embedded as a subset. Without
it, the PDF's built-in Helvetica is used, which knows Latin-1 only: arrows and dashes are
written as ASCII and amounts with the ISO code (``USD 1,234.50``), so nothing is lost.

``compress=False`` leaves the page's drawing commands readable (tests look for the text in
them, with the built-in font); the document's title, "Invoice INV-000001", is in its metadata
either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from seatledger.domain.invoice_document import InvoiceDocument
from seatledger.pricing.display import display_money
from seatledger.pricing.money import format_amount

FONT_FOLDERS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
_ASCII = {"→": "->", "–": "-", "—": "-", "…": "...", "\u00a0": " ", "\u202f": " "}
_WIDTHS = (100, 15, 32.5, 32.5)  # description, quantity, unit amount, amount (mm; 180 wide)


def system_font() -> Path | None:
    """The folder holding DejaVu Sans (regular and bold), if the system has it."""
    for folder in FONT_FOLDERS:
        if (folder / "DejaVuSans.ttf").is_file() and (folder / "DejaVuSans-Bold.ttf").is_file():
            return folder
    return None


class _Writer:
    def __init__(self, font: Path | None) -> None:
        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(auto=True, margin=15)
        if font is not None:
            self.pdf.add_font("body", "", str(font / "DejaVuSans.ttf"))
            self.pdf.add_font("body", "B", str(font / "DejaVuSans-Bold.ttf"))
            self.family = "body"
            self.text: Callable[[str], str] = str
            self.money: Callable[[int, str], str] = display_money
        else:
            self.family = "helvetica"
            self.text = _latin1
            self.money = format_amount

    def style(self, size: float, *, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def line(self, text: str, *, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.style(size, bold=bold)
        self.pdf.cell(0, height, self.text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, cells: tuple[str, str, str, str], *, bold: bool = False) -> None:
        """A table row; a long description wraps and the row grows with it."""
        self.style(9.5, bold=bold)
        pdf = self.pdf
        top, left = pdf.get_y(), pdf.l_margin
        pdf.multi_cell(_WIDTHS[0], 5.5, self.text(cells[0]), new_x=XPos.RIGHT, new_y=YPos.TOP)
        bottom = max(pdf.get_y(), top + 5.5)
        pdf.set_xy(left + _WIDTHS[0], top)
        for width, cell in zip(_WIDTHS[1:], cells[1:], strict=True):
            pdf.cell(width, 5.5, self.text(cell), align="R")
        pdf.set_xy(left, bottom)
        if pdf.get_y() < top + 5.5:
            pdf.set_y(top + 5.5)


def _latin1(text: str) -> str:
    for char, plain in _ASCII.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def _header(w: _Writer, doc: InvoiceDocument) -> None:
    w.line(f"Invoice {doc.number}", size=18, bold=True, height=10)
    w.line(f"Status: {doc.status}")
    w.line(f"Issued: {doc.issued_at:%b} {doc.issued_at.day}, {doc.issued_at.year}")
    if doc.period is not None:
        w.line(f"Period: {doc.period}")
    if doc.paid_at is not None:
        w.line(f"Paid: {doc.paid_at:%b} {doc.paid_at.day}, {doc.paid_at.year}")
    w.line(f"For: {doc.reason}")
    w.pdf.ln(4)
    w.line("From", bold=True)
    w.line(doc.seller)
    w.pdf.ln(2)
    w.line("Bill to", bold=True)
    w.line(doc.buyer_name)
    if doc.buyer_email:
        w.line(doc.buyer_email)
    w.pdf.ln(6)


def _lines(w: _Writer, doc: InvoiceDocument) -> None:
    w.row(("Description", "Qty", "Unit amount", "Amount"), bold=True)
    w.pdf.line(w.pdf.l_margin, w.pdf.get_y(), w.pdf.w - w.pdf.r_margin, w.pdf.get_y())
    for line in doc.lines:
        w.row(
            (
                line.description,
                str(line.quantity),
                w.money(line.unit_amount, doc.currency),
                w.money(line.amount, doc.currency),
            )
        )
    w.pdf.ln(3)
    for label, amount, bold in (
        ("Subtotal", doc.subtotal, False),
        ("Credit applied", -doc.credit_applied, False),
        ("Total", doc.total, True),
    ):
        w.row((label, "", "", w.money(amount, doc.currency)), bold=bold)


def render_invoice_pdf(
    doc: InvoiceDocument, *, font: Path | None = None, compress: bool = True
) -> bytes:
    """The PDF of ``doc``, with DejaVu Sans from ``font`` (a folder) or the built-in font."""
    w = _Writer(font)
    w.pdf.set_compression(compress)
    w.pdf.set_title(f"Invoice {doc.number}")
    w.pdf.set_author(doc.seller)
    w.pdf.set_creation_date(doc.issued_at)
    w.pdf.add_page()
    _header(w, doc)
    _lines(w, doc)
    return bytes(w.pdf.output())


__all__ = ["render_invoice_pdf", "system_font"]
