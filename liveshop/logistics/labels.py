"""The printable label and packing slip of a shipment: one PDF (fpdf2), page 1 the label with
the tracking number as a Code 39 barcode and a QR code (segno), page 2 the packing slip."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from liveshop.core.i18n import gettext as _

# Unicode fonts where the machine has them (`make system-deps`: fonts-dejavu-core covers
# Latin with Vietnamese diacritics, Greek and Cyrillic; fonts-thai-tlwg covers Thai). The
# first found is the body font; the others are fallbacks for the characters it lacks, so a
# Thai name on a Latin label keeps its script. Thai is shaped (HarfBuzz, via uharfbuzz) so
# its vowels and tone marks sit where they belong. Without any: the PDF core font
# (Latin-1 only).
_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
_FALLBACKS = (
    Path("/usr/share/fonts/truetype/tlwg/Garuda.ttf"),  # Thai
    Path("/usr/share/fonts/truetype/tlwg/Loma.ttf"),
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
    body = next((p for p in _FONTS if p.is_file()), None)
    if body is None:
        return "Helvetica", False
    pdf.add_font("body", "", str(body))
    fallbacks = []
    for n, path in enumerate(p for p in _FALLBACKS if p.is_file()):
        pdf.add_font(f"fallback{n}", "", str(path))
        fallbacks.append(f"fallback{n}")
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks)
    pdf.set_text_shaping(True)
    return "body", True


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def render(data: LabelData) -> bytes:
    pdf = FPDF(format=(100, 150))  # a 4x6-inch label
    pdf.set_auto_page_break(auto=True, margin=6)
    pdf.set_margins(6, 6, 6)
    font, unicode_ok = _font(pdf)

    def text(value: str) -> str:
        return value if unicode_ok else value.encode("latin-1", "replace").decode("latin-1")

    def use(size: float) -> None:
        # fpdf2 2.8 leaves the fallback font current in the page after a line that needed
        # it, and skips re-selecting the body font it believes is current: switch away and
        # back so every line starts in the body font at its size.
        pdf.set_font("Helvetica", size=size)
        pdf.set_font(font, size=size)

    def lines(size: float, height: float, values: list[str], width: float = 0) -> None:
        for value in values:
            use(size)
            pdf.multi_cell(width, height, text(value), new_x="LMARGIN", new_y="NEXT")

    pdf.set_title(_("Label %(tracking)s", tracking=data.tracking_number))
    pdf.add_page()
    lines(13, 7, [data.carrier_name])
    lines(9, 5, [f"{data.service.title()} · {data.weight_grams} g"])
    pdf.ln(2)
    lines(8, 4, [_("FROM"), *data.ship_from])
    pdf.ln(2)
    lines(8, 4, [_("TO")])
    lines(12, 6, [*data.ship_to, data.phone])
    y = max(pdf.get_y() + 4, 80.0)
    # Code 39 with a 0.5 mm narrow bar and the QR code with its 4-module quiet zone both
    # decode from a 200 dpi scan (tests/logistics/test_labels.py reads them with zbar).
    pdf.code39(f"*{data.tracking_number.upper()}*", x=6, y=y, w=0.5, h=16)
    pdf.set_xy(6, y + 17)
    lines(10, 5, [data.tracking_number])
    pdf.image(io.BytesIO(qr_png(data.tracking_number)), x=64, y=y + 22, w=30)
    pdf.set_xy(6, y + 24)
    order = _("Order #%(order)s", order=data.order_id)
    lines(8, 4, [order, _("Shipment #%(shipment)s", shipment=data.shipment_id)], width=55)

    pdf.add_page()
    lines(13, 7, [_("Packing slip · order #%(order)s", order=data.order_id)])
    lines(8, 5, [_("Parcel %(tracking)s", tracking=data.tracking_number)])
    pdf.ln(2)
    for line in data.lines:
        lines(10, 5, [f"{line.quantity} × {line.title}"])
        detail = " · ".join(p for p in (line.variant, line.sku_code) if p)
        lines(8, 4, [detail])
        pdf.ln(1)
    return bytes(pdf.output())
