"""Draw the demo data's product and shop pictures as small SVG files.

Run ``python -m liveshop.web.make_demo_images`` after the demo data changes; the SVGs are
committed under ``liveshop/web/static/demo/`` so ``/static/demo/<slug>.svg`` resolves without
running anything. Each picture is a gradient tile in the category's colours with a simple
icon and the product's name; the colours shift per product so a grid does not look flat.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from xml.sax.saxutils import escape

from liveshop.catalog.demo_data import DEMO_SHOPS, DemoProduct, DemoShop

OUT = Path(__file__).parent / "static" / "demo"

# Category → (light, dark) gradient ends and an icon path drawn on a 200×200 grid.
PALETTE: dict[str, tuple[str, str]] = {
    "beauty": ("#fbcfe8", "#be185d"),
    "fashion": ("#ddd6fe", "#5b21b6"),
    "electronics": ("#bae6fd", "#1e3a8a"),
    "grocery": ("#fde68a", "#b45309"),
    "home": ("#bbf7d0", "#166534"),
    "sports": ("#a7f3d0", "#0f766e"),
    "toys": ("#fecaca", "#b91c1c"),
}
ICONS: dict[str, str] = {
    # a dropper bottle
    "beauty": "M85 40h30v18h-30z M78 58h44v10H78z M80 68h40l6 84a10 10 0 0 1-10 11H84a10 10 0 0 1"
    "-10-11z",
    # a T-shirt
    "fashion": "M70 42l-34 20 14 30 18-8v78h64V84l18 8 14-30-34-20c-4 14-16 22-30 22s-26-8-30-22z",
    # headphones
    "electronics": "M50 120v-20a50 50 0 0 1 100 0v20 M42 116h24v46H42z M134 116h24v46h-24z",
    # a jar
    "grocery": "M72 44h56v18H72z M66 62h68a6 6 0 0 1 6 6v84a14 14 0 0 1-14 14H74a14 14 0 0 1-14"
    "-14V68a6 6 0 0 1 6-6z",
    "home": "M40 100l60-52 60 52v62H40z",
    "sports": "M100 40a60 60 0 1 0 0.1 0z",
    "toys": "M60 80h80v80H60z",
}
SHOP_ICON = "M40 78l12-34h96l12 34z M48 78v78h104V78 M84 156v-40h32v40"

# Keyword in the product's slug → a more specific icon (first match wins).
KEYWORD_ICONS: tuple[tuple[str, str], ...] = (
    ("lip", "M84 96h32v66H84z M88 96V62l24-16v50"),
    (
        "mask",
        "M52 60c0-10 96-10 96 0v50c0 34-22 56-48 56s-48-22-48-56z M76 96h16 M108 96h16"
        " M86 132c8 6 20 6 28 0",
    ),
    ("moisturiser", "M56 92h88v62a10 10 0 0 1-10 10H66a10 10 0 0 1-10-10z M60 66h80v26H60z"),
    ("cream", "M56 92h88v62a10 10 0 0 1-10 10H66a10 10 0 0 1-10-10z M60 66h80v26H60z"),
    ("balm", "M56 92h88v62a10 10 0 0 1-10 10H66a10 10 0 0 1-10-10z M60 66h80v26H60z"),
    ("tint", "M80 40h40v30H80z M72 70h56v92H72z"),
    ("jeans", "M62 40h76l6 124h-30l-14-84-14 84H56z"),
    ("skirt", "M72 44h56l30 118H42z M72 60h56"),
    ("tote", "M46 80h108l-8 84H54z M76 80v-14a24 24 0 0 1 48 0v14"),
    ("beanie", "M46 130a54 54 0 0 1 108 0z M40 130h120v22H40z M100 48v-8"),
    ("socks", "M80 36h36v80l28 24-16 24-48-40z"),
    ("watch", "M70 70h60v60H70z M82 70l6-34h24l6 34 M82 130l6 34h24l6-34 M100 88v14l10 8"),
    ("power-bank", "M64 48h72v112H64z M92 40h16v8 M86 80h28 M86 104h28 M86 128h28"),
    ("charger", "M66 66h68v72a14 14 0 0 1-14 14H80a14 14 0 0 1-14-14z M84 66V40 M116 66V40"),
    ("speaker", "M64 44h72v116H64z M100 124a18 18 0 1 0 .1 0z M100 68a8 8 0 1 0 .1 0z"),
    (
        "case",
        "M70 36h60a10 10 0 0 1 10 10v108a10 10 0 0 1-10 10H70a10 10 0 0 1-10-10V46a10 10 0"
        " 0 1 10-10z M76 50h20v20H76z",
    ),
    ("ring-light", "M100 40a46 46 0 1 0 .1 0z M100 62a24 24 0 1 0 .1 0z M100 132v34 M76 166h48"),
    ("cable", "M60 60h24v24H60z M116 116h24v24h-24z M72 84c0 60 56 -20 56 32"),
    ("keyboard", "M36 76h128v64H36z M52 92h12 M76 92h12 M100 92h12 M124 92h12 M64 120h72"),
    (
        "coffee",
        "M54 80h80v46a34 34 0 0 1-34 34h-12a34 34 0 0 1-34-34z M134 92h14a14 14 0 0 1 0"
        " 28h-14 M78 44c-6 10 6 14 0 24 M104 44c-6 10 6 14 0 24",
    ),
    (
        "teh",
        "M54 80h80v46a34 34 0 0 1-34 34h-12a34 34 0 0 1-34-34z M134 92h14a14 14 0 0 1 0 28h-14",
    ),
    ("kripik", "M58 46h84l-8 118H66z M58 46l10-10h64l10 10 M82 96c10-10 26-10 36 0"),
    ("keripik", "M58 46h84l-8 118H66z M58 46l10-10h64l10 10 M82 96c10-10 26-10 36 0"),
    ("mie", "M40 98h120a60 60 0 0 1-120 0z M70 90c10-30 0-40 10-56 M100 90c10-30 0-40 10-56"),
    ("nastar", "M40 92h120v58a12 12 0 0 1-12 12H52a12 12 0 0 1-12-12z M36 76h128v16H36z"),
)


def _shift(slug: str) -> int:
    return int(hashlib.sha256(slug.encode()).hexdigest()[:4], 16) % 60 - 30


def _lines(title: str, width: int = 17) -> list[str]:
    wrapped = textwrap.wrap(title, width=width)
    if len(wrapped) > 3:
        wrapped = [*wrapped[:2], wrapped[2][: width - 1] + "…"]
    return wrapped


def _svg(slug: str, title: str, light: str, dark: str, icon: str, label: str) -> str:
    angle = 135 + _shift(slug)
    text_y = 262 - 22 * (len(_lines(title)) - 1)
    tspans = "".join(
        f'<tspan x="24" dy="{0 if i == 0 else 24}">{escape(line)}</tspan>'
        for i, line in enumerate(_lines(title))
    )
    label_attr = escape(title, {'"': "&quot;"})
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320" role="img"
 aria-label="{label_attr}">
<defs>
<linearGradient id="bg" gradientTransform="rotate({angle - 90} .5 .5)">
<stop offset="0" stop-color="{light}"/><stop offset="1" stop-color="{dark}"/>
</linearGradient>
<radialGradient id="shine" cx=".25" cy=".2" r=".8">
<stop offset="0" stop-color="#fff" stop-opacity=".55"/>
<stop offset="1" stop-color="#fff" stop-opacity="0"/>
</radialGradient>
<linearGradient id="foot" x1="0" y1="0" x2="0" y2="1">
<stop offset=".45" stop-color="#000" stop-opacity="0"/>
<stop offset="1" stop-color="#000" stop-opacity=".32"/>
</linearGradient>
</defs>
<rect width="320" height="320" fill="url(#bg)"/>
<rect width="320" height="320" fill="url(#shine)"/>
<circle cx="250" cy="70" r="90" fill="#fff" opacity=".12"/>
<rect width="320" height="320" fill="url(#foot)"/>
<g transform="translate(150 18) scale(.8)" fill="#fff" fill-opacity=".92" stroke="#fff"
 stroke-opacity=".95" stroke-width="7" stroke-linejoin="round" stroke-linecap="round">
<path d="{icon}" fill-opacity=".25"/>
</g>
<text x="24" y="44" font-family="system-ui, 'Liberation Sans', Arial, sans-serif" font-size="13"
 font-weight="700" letter-spacing="1.5" fill="{dark}">{escape(label.upper())}</text>
<text y="{text_y}" font-family="system-ui, 'Liberation Sans', Arial, sans-serif" font-size="21"
 font-weight="800" fill="#fff">{tspans}</text>
</svg>
"""


def product_svg(shop: DemoShop, product: DemoProduct) -> str:
    light, dark = PALETTE.get(str(product.category), ("#e5e7eb", "#374151"))
    icon = next(
        (path for word, path in KEYWORD_ICONS if word in product.slug),
        ICONS.get(str(product.category), ICONS["toys"]),
    )
    return _svg(product.slug, product.title, light, dark, icon, shop.name)


def shop_svg(shop: DemoShop) -> str:
    category = str(shop.products[0].category) if shop.products else "home"
    light, dark = PALETTE.get(category, ("#e5e7eb", "#374151"))
    return _svg(shop.slug, shop.name, light, dark, SHOP_ICON, "shop")


def write_all(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for shop in DEMO_SHOPS:
        path = out / f"{shop.slug}.svg"
        path.write_text(shop_svg(shop), encoding="utf-8")
        written.append(path)
        for product in shop.products:
            path = out / f"{product.slug}.svg"
            path.write_text(product_svg(shop, product), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    files = write_all()
    print(f"wrote {len(files)} pictures to {OUT}")
