"""The printable label and packing slip of a shipment: one PDF (fpdf2), page 1 the label with
the tracking number as a Code 39 barcode and a QR code (segno), page 2 the packing slip."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

# A Unicode font where the machine has one (Debian: fonts-dejavu-core / fonts-liberation);
# the PDF core font (Latin-1 only) otherwise.
_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


@dataclass(frozen=True, slots=True)
class SlipLine:
    title: str
    variant: str
    sku_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class LabelData:
    shipment_id: int
    order_id: int
    carrier_name: str
    service: str
    tracking_number: str
    weight_grams: int
    size_mm: tuple[int, int, int]
    ship_from: list[str]
    ship_to: list[str]
    phone: str
    lines: list[SlipLine]


def _font(pdf: FPDF) -> tuple[str, bool]:
    for path in _FONTS:
        if path.is_file():
            pdf.add_font("body", "", str(path))
            return "body", True
    return "Helvetica", False


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()


def render(data: LabelData) -> bytes:
    pdf = FPDF(format=(100, 150))  # a 4x6-inch label
    pdf.set_auto_page_break(auto=True, margin=6)
    pdf.set_margins(6, 6, 6)
    font, unicode_ok = _font(pdf)

    def text(value: str) -> str:
        return value if unicode_ok else value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(f"Label {data.tracking_number}")
    pdf.add_page()
    pdf.set_font(font, size=13)
    pdf.cell(0, 7, text(data.carrier_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=9)
    pdf.cell(
        0, 5, text(f"{data.service.title()} · {data.weight_grams} g"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)
    pdf.set_font(font, size=8)
    pdf.cell(0, 4, "FROM", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4, text("\n".join(data.ship_from)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.cell(0, 4, "TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=12)
    pdf.multi_cell(
        0, 6, text("\n".join([*data.ship_to, data.phone])), new_x="LMARGIN", new_y="NEXT"
    )
    y = max(pdf.get_y() + 4, 80.0)
    pdf.code39(f"*{data.tracking_number.upper()}*", x=6, y=y, w=0.3, h=16)
    pdf.set_xy(6, y + 17)
    pdf.set_font(font, size=10)
    pdf.cell(0, 5, data.tracking_number, new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(qr_png(data.tracking_number)), x=64, y=y + 22, w=30)
    pdf.set_xy(6, y + 24)
    pdf.set_font(font, size=8)
    pdf.multi_cell(55, 4, text(f"Order #{data.order_id}\nShipment #{data.shipment_id}"))

    pdf.add_page()
    pdf.set_font(font, size=13)
    pdf.cell(0, 7, text(f"Packing slip · order #{data.order_id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=8)
    pdf.cell(0, 5, text(f"Parcel {data.tracking_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for line in data.lines:
        pdf.set_font(font, size=10)
        pdf.multi_cell(0, 5, text(f"{line.quantity} × {line.title}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, size=8)
        detail = " · ".join(p for p in (line.variant, line.sku_code) if p)
        pdf.multi_cell(0, 4, text(detail), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
