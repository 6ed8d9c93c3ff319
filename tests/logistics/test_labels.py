"""The label and packing slip PDF as a carrier and a recipient meet it: a Thai and a
Vietnamese address keep their script (read back with poppler's pdftotext), and the tracking
barcode and QR code scan (the page rasterised at 200 dpi with pdftoppm, decoded with zbar)
to the tracking number."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from liveshop.addresses.validation import address_lines, validate_address
from liveshop.logistics.carriers import Parcel, SimulatedCarrier
from liveshop.logistics.labels import LabelData, SlipLine, render
from tests.conftest import service_missing

THAI = {
    "country_code": "TH",
    "full_name": "สมชาย ใจดี",
    "phone": "081 234 5678",
    "street_address": "99 ถนนสุขุมวิท",
    "city": "คลองเตย",
    "country_area": "กรุงเทพมหานคร",
    "postal_code": "10110",
}
VIETNAMESE = {
    "country_code": "VN",
    "full_name": "Nguyễn Thị Linh",
    "phone": "0912 345 678",
    "street_address": "12 Hàng Bạc",
    "city": "Hoàn Kiếm",
    "country_area": "Hà Nội",
}


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        service_missing(name, f"install Debian {package} (make system-deps)")
    assert found is not None
    return found


def _label(fields: dict[str, str], title: str) -> tuple[LabelData, bytes]:
    clean = validate_address(dict(fields))
    booking = SimulatedCarrier("normal").book(Parcel(clean.country_code, "standard", 450, ""))
    data = LabelData(
        shipment_id=7,
        order_id=42,
        carrier_name="Liveshop Express (simulated)",
        service="standard",
        tracking_number=booking.tracking_number,
        weight_grams=450,
        size_mm=(220, 160, 80),
        ship_from=["Shop 1", clean.country_code],
        ship_to=address_lines(clean.as_dict()),
        phone=clean.phone,
        lines=[SlipLine(title, "M", "SKU-1", 2)],
    )
    return data, render(data)


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "label.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [_tool("pdftotext", "poppler-utils"), str(path), "-"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return unicodedata.normalize("NFC", out.stdout.decode())


@pytest.mark.parametrize(
    ("fields", "title"), [(THAI, "เสื้อยืดผ้าฝ้าย"), (VIETNAMESE, "Áo thun cổ tròn")], ids=["TH", "VN"]
)
def test_the_recipient_keeps_their_script(
    fields: dict[str, str], title: str, tmp_path: Path
) -> None:
    data, pdf = _label(fields, title)
    text = _text(pdf, tmp_path)
    # pdftotext guesses word breaks from glyph positions (a shaped Thai mark can read as a
    # space): compare the characters, spaces aside.
    squeezed = "".join(text.split())
    for line in [*data.ship_to, data.phone, f"2 × {title}"]:
        assert "".join(unicodedata.normalize("NFC", line).split()) in squeezed, (line, text)
    assert "?" not in text  # nothing replaced by the Latin-1 fallback


@pytest.mark.parametrize("fields", [THAI, VIETNAMESE], ids=["TH", "VN"])
def test_the_barcode_and_qr_code_scan_to_the_tracking_number(
    fields: dict[str, str], tmp_path: Path
) -> None:
    data, pdf = _label(fields, "Tee")
    (tmp_path / "label.pdf").write_bytes(pdf)
    pdftoppm = _tool("pdftoppm", "poppler-utils")
    subprocess.run(
        [pdftoppm, "-r", "200", "-png", "-f", "1", "-l", "1", str(tmp_path / "label.pdf"), "page"],
        cwd=tmp_path,
        check=True,
        timeout=30,
    )
    (page,) = tmp_path.glob("page*.png")
    scanned = subprocess.run(
        [_tool("zbarimg", "zbar-tools"), "--quiet", str(page)],
        capture_output=True,
        timeout=30,
    )
    symbols = sorted(scanned.stdout.decode().split())
    assert symbols == sorted([f"CODE-39:{data.tracking_number}", f"QR-Code:{data.tracking_number}"])
