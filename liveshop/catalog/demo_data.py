"""The demo shops and their products (loaded by ``liveshop demo load``).

Prices are written the way a shop would write them — pence, whole rupiah, whole đồng — and
turned into ISO 4217 minor units by :func:`demo_prices` (GBP ×100, IDR ×100, VND ×1).
Images are ``/static/demo/<slug>.svg``; :func:`demo_image_slugs` lists every file needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liveshop.catalog.models import Category
from liveshop.catalog.schemas import PriceIn

# (pence, rupiah, đồng): what the shelf price reads in GB, ID and VN.
LocalPrices = tuple[int, int, int]


@dataclass(frozen=True)
class DemoVariant:
    code: str
    attributes: dict[str, str]
    price: LocalPrices | None = None  # None: the product's price


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    title: str
    category: Category
    description: str
    price: LocalPrices
    variants: tuple[DemoVariant, ...]


@dataclass(frozen=True)
class DemoShop:
    slug: str
    name: str
    home_market: str
    description: str
    owner_email: str
    products: tuple[DemoProduct, ...] = field(default=())
    # The shop's open affiliate plan: commission (basis points of the net price) on every
    # category it sells, so any creator may show its products.
    affiliate_rate_bp: int = 1000


def demo_prices(local: LocalPrices) -> list[PriceIn]:
    gbp, idr, vnd = local
    return [
        PriceIn(market="GB", currency="GBP", amount_minor=gbp),
        PriceIn(market="ID", currency="IDR", amount_minor=idr * 100),
        PriceIn(market="VN", currency="VND", amount_minor=vnd),
    ]


def V(code: str, price: LocalPrices | None = None, **attributes: str) -> DemoVariant:
    return DemoVariant(code=code, attributes=attributes, price=price)


def grid(prefix: str, sizes: list[str], colours: list[str]) -> tuple[DemoVariant, ...]:
    """Every size in every colour, e.g. NT-TEE-M-BLACK."""
    return tuple(
        V(f"{prefix}-{s}-{c}".upper().replace(" ", ""), size=s, colour=c)
        for c in colours
        for s in sizes
    )


P = DemoProduct

# fmt: off
BEAUTY = DemoShop(
    slug="bloom-botanic",
    name="Bloom & Botanic",
    home_market="GB",
    description="Small-batch botanical skincare, blended in Bristol. Vegan, cruelty-free and "
    "packed in recycled glass.",
    owner_email="seller1@liveshop.demo",
    affiliate_rate_bp=1200,
    products=(
        P("rosehip-serum", "Rosehip Renewal Face Serum", Category.BEAUTY,
          "Cold-pressed rosehip and sea buckthorn oils to even tone and soften fine lines. "
          "Three drops at night; suits dry and combination skin.",
          (2400, 329_000, 489_000),
          (V("BB-RHS-15", (1600, 219_000, 329_000), size="15 ml"), V("BB-RHS-30", size="30 ml"))),
        P("vitamin-c-moisturiser", "Vitamin C Glow Moisturiser 50 ml", Category.BEAUTY,
          "A light gel-cream with 10% stable vitamin C and niacinamide for a brighter, "
          "smoother complexion. Fragrance-free.",
          (1950, 269_000, 399_000), (V("BB-VCM-50", size="50 ml"),)),
        P("tinted-lip-balm", "Tinted Lip Balm", Category.BEAUTY,
          "Shea butter and raspberry seed oil with a sheer wash of colour. Buildable, "
          "never sticky.",
          (850, 115_000, 169_000),
          tuple(V(f"BB-TLB-{s.split()[0].upper()}", shade=s)
                for s in ("Rosewood", "Coral Kiss", "Berry Crush", "Nude Petal"))),
        P("dewy-skin-tint", "Dewy Skin Tint SPF 30", Category.BEAUTY,
          "Sheer, breathable coverage with broad-spectrum SPF 30 and hyaluronic acid. "
          "Five shades with warm, neutral and cool undertones.",
          (2200, 299_000, 449_000),
          tuple(V(f"BB-DST-{n:02d}", shade=f"{s} {n:02d}")
                for n, s in enumerate(("Fair", "Light", "Medium", "Tan", "Deep"), start=1))),
        P("oat-cleansing-balm", "Oat Milk Cleansing Balm 100 ml", Category.BEAUTY,
          "Melts away SPF and make-up, rinses clean with warm water. Colloidal oat calms "
          "sensitive skin. Comes with a muslin cloth.",
          (1500, 199_000, 299_000), (V("BB-OCB-100", size="100 ml"),)),
        P("green-clay-mask", "Green Clay Detox Mask", Category.BEAUTY,
          "French green clay, spirulina and tea tree to draw out congestion. Ten minutes, "
          "twice a week.",
          (1400, 189_000, 279_000), (V("BB-GCM-75", size="75 ml"),)),
        P("argan-hair-oil", "Argan & Camellia Hair Oil", Category.BEAUTY,
          "Tames frizz and adds shine without weighing hair down. Heat protection up to 220 °C.",
          (1800, 245_000, 369_000),
          (V("BB-AHO-50", (1200, 165_000, 249_000), size="50 ml"), V("BB-AHO-100", size="100 ml"))),
        P("hydrating-sheet-masks", "Hydrating Sheet Mask, 5-pack", Category.BEAUTY,
          "Biodegradable cotton masks soaked in aloe, cucumber and hyaluronic acid.",
          (1000, 129_000, 199_000), (V("BB-HSM-5", pack="5 masks"),)),
        P("caffeine-eye-cream", "Caffeine Eye Cream 15 ml", Category.BEAUTY,
          "Green coffee and peptides to de-puff and brighten tired eyes. Cooling steel tip.",
          (1700, 229_000, 339_000), (V("BB-CEC-15", size="15 ml"),)),
    ),
)

FASHION = DemoShop(
    slug="northern-thread",
    name="Northern Thread",
    home_market="GB",
    description="Everyday clothing cut and sewn in Leeds from organic and recycled fabrics. "
    "Built to be worn for years.",
    owner_email="seller2@liveshop.demo",
    affiliate_rate_bp=1000,
    products=(
        P("heavyweight-tee", "Heavyweight Organic Cotton Tee", Category.FASHION,
          "240 gsm organic cotton with a boxy fit and a ribbed crew neck. Pre-shrunk.",
          (2800, 349_000, 529_000), grid("NT-TEE", ["S", "M", "L", "XL"], ["Black", "Oatmeal"])),
        P("merino-crew-jumper", "Merino Wool Crew Jumper", Category.FASHION,
          "Extra-fine merino that breathes, resists odour and layers under a coat.",
          (7900, 999_000, 1_490_000), grid("NT-MER", ["S", "M", "L", "XL"], ["Navy", "Charcoal"])),
        P("selvedge-jeans", "Selvedge Denim Straight Jeans", Category.FASHION,
          "13.5 oz Japanese selvedge denim, straight leg, raw indigo that fades with you.",
          (9500, 1_199_000, 1_790_000),
          tuple(V(f"NT-JEAN-W{w}-L32", waist=w, leg="32") for w in ("30", "32", "34", "36"))),
        P("linen-shirt", "Relaxed Linen Shirt", Category.FASHION,
          "Washed European linen, relaxed fit, mother-of-pearl buttons.",
          (5500, 689_000, 1_029_000), grid("NT-LIN", ["S", "M", "L"], ["White", "Sage"])),
        P("recycled-puffer", "Recycled Puffer Jacket", Category.FASHION,
          "Water-repellent shell and recycled insulation; packs into its own pocket.",
          (12000, 1_499_000, 2_249_000), grid("NT-PUF", ["S", "M", "L", "XL"], ["Black"])),
        P("waxed-canvas-tote", "Waxed Canvas Tote Bag", Category.FASHION,
          "Waxed cotton canvas with leather handles and an inside zip pocket. Fits a 15\" laptop.",
          (3800, 479_000, 719_000),
          (V("NT-TOTE-OLIVE", colour="Olive"), V("NT-TOTE-TAN", colour="Tan"))),
        P("lambswool-beanie", "Ribbed Lambswool Beanie", Category.FASHION,
          "Soft, warm and knitted in Scotland. One size.",
          (2200, 279_000, 419_000),
          tuple(V(f"NT-BEA-{c.upper()}", colour=c) for c in ("Mustard", "Forest", "Grey"))),
        P("satin-midi-skirt", "Pleated Satin Midi Skirt", Category.FASHION,
          "Fluid satin with knife pleats and an elasticated waist. Dress it up or down.",
          (4800, 599_000, 899_000), grid("NT-SKT", ["8", "10", "12", "14"], ["Champagne"])),
        P("cotton-socks-3pk", "Everyday Cotton Socks, 3-pack", Category.FASHION,
          "Combed cotton with a cushioned sole and a seamless toe.",
          (1400, 175_000, 259_000),
          (V("NT-SOCK-4-7", size="UK 4-7"), V("NT-SOCK-8-11", size="UK 8-11"))),
    ),
)

GADGETS = DemoShop(
    slug="voltbox",
    name="Voltbox",
    home_market="GB",
    description="Chargers, audio and creator kit we test ourselves. Two-year warranty on "
    "everything.",
    owner_email="seller3@liveshop.demo",
    affiliate_rate_bp=500,
    products=(
        P("aura-anc-earbuds", "Aura ANC Wireless Earbuds", Category.ELECTRONICS,
          "Hybrid noise cancelling, 32 hours with the case, wireless charging and multipoint "
          "Bluetooth 5.3.",
          (8900, 1_099_000, 1_690_000),
          (V("VB-AURA-MIDNIGHT", colour="Midnight"), V("VB-AURA-PEARL", colour="Pearl"))),
        P("power-bank-20k", "20,000 mAh USB-C Power Bank 65 W", Category.ELECTRONICS,
          "Charges a laptop and a phone at once; airline-safe; shows charge left in per cent.",
          (4500, 549_000, 849_000), (V("VB-PB20K", colour="Graphite"),)),
        P("gan-charger-65w", "65 W GaN Charger, 3 ports", Category.ELECTRONICS,
          "Two USB-C and one USB-A port in a charger half the size of a laptop brick.",
          (3500, 429_000, 659_000),
          (V("VB-GAN65-UK", plug="UK"), V("VB-GAN65-EU", plug="EU"))),
        P("pulse-fit-smartwatch", "Pulse Fit Smartwatch", Category.ELECTRONICS,
          "AMOLED display, heart rate, SpO2, sleep tracking, GPS and 10-day battery.",
          (12900, 1_599_000, 2_390_000),
          (V("VB-PULSE-BLACK", colour="Black"), V("VB-PULSE-ROSE", colour="Rose Gold"))),
        P("pocket-speaker", "Pocket Bluetooth Speaker, waterproof", Category.ELECTRONICS,
          "IP67, 12-hour battery and a strap that clips to a bag or a shower rail.",
          (3900, 479_000, 729_000),
          tuple(V(f"VB-POCKET-{c.upper()}", colour=c) for c in ("Teal", "Coral", "Graphite"))),
        P("magsafe-clear-case", "MagSafe Clear Phone Case", Category.ELECTRONICS,
          "Anti-yellowing clear case with strong magnets and raised camera edges.",
          (1900, 229_000, 349_000),
          tuple(V(f"VB-CASE-{m.replace(' ', '').upper()}", model=f"iPhone {m}")
                for m in ("15", "15 Pro", "16", "16 Pro"))),
        P("ring-light-10", "10-inch Ring Light with Tripod", Category.ELECTRONICS,
          "Three colour temperatures, ten brightness steps and a phone holder: made for going "
          "live.",
          (2900, 349_000, 529_000), (V("VB-RING10", size="10 inch"),)),
        P("braided-usb-c-cable", "Braided USB-C Cable 2 m, 2-pack", Category.ELECTRONICS,
          "100 W rated, 20,000-bend tested nylon braid.",
          (1200, 145_000, 219_000), (V("VB-CABLE-2M", length="2 m"),)),
        P("compact-keyboard", "Compact 75% Mechanical Keyboard", Category.ELECTRONICS,
          "Hot-swappable switches, gasket mount, Bluetooth and USB-C, white backlight.",
          (6900, 849_000, 1_290_000),
          (V("VB-KB75-RED", switch="Linear red"), V("VB-KB75-BROWN", switch="Tactile brown"))),
    ),
)

GROCERY = DemoShop(
    slug="dapur-nusantara",
    name="Dapur Nusantara",
    home_market="ID",
    description="Snacks, sambal and coffee from family kitchens across Indonesia, made with "
    "no preservatives.",
    owner_email="seller4@liveshop.demo",
    affiliate_rate_bp=800,
    products=(
        P("kripik-balado", "Kripik Singkong Balado (Spicy Cassava Chips)", Category.GROCERY,
          "Thin cassava chips tossed in a sweet-hot red chilli balado, West Sumatra style.",
          (650, 39_000, 75_000),
          (V("DN-KRIPIK-100", (350, 18_000, 35_000), weight="100 g"),
           V("DN-KRIPIK-250", weight="250 g"))),
        P("sambal-matah", "Sambal Matah Bali, 200 g jar", Category.GROCERY,
          "Raw shallot, lemongrass, lime leaf and bird's-eye chilli in coconut oil.",
          (699, 45_000, 89_000), (V("DN-MATAH-200", weight="200 g"),)),
        P("kopi-toraja", "Toraja Arabica Coffee", Category.GROCERY,
          "Single-origin Sulawesi arabica, medium roast: dark chocolate, spice and a syrupy body.",
          (1200, 95_000, 189_000),
          (V("DN-TORAJA-250-BEAN", weight="250 g", grind="Whole bean"),
           V("DN-TORAJA-250-GROUND", weight="250 g", grind="Ground"),
           V("DN-TORAJA-500-BEAN", (2100, 175_000, 349_000), weight="500 g", grind="Whole bean"),
           V("DN-TORAJA-500-GROUND", (2100, 175_000, 349_000), weight="500 g", grind="Ground"))),
        P("rendang-paste", "Rendang Spice Paste 150 g", Category.GROCERY,
          "Galangal, chilli, lemongrass and toasted coconut: slow-cook with beef for 3 hours.",
          (499, 32_000, 65_000), (V("DN-RENDANG-150", weight="150 g"),)),
        P("teh-melati", "Jasmine Tea, 25 sachets", Category.GROCERY,
          "Black tea scented with fresh jasmine flowers, as served from Java to Jakarta.",
          (399, 22_000, 45_000), (V("DN-MELATI-25", pack="25 sachets"),)),
        P("keripik-tempe", "Tempeh Chips with Lime Leaf 120 g", Category.GROCERY,
          "Crisp slices of Malang tempeh with kaffir lime leaf. High in plant protein.",
          (399, 25_000, 49_000), (V("DN-TEMPE-120", weight="120 g"),)),
        P("nastar-gift-tin", "Nastar Pineapple Tarts, 500 g gift tin", Category.GROCERY,
          "Buttery pastry filled with slow-cooked pineapple jam. Baked to order for Lebaran "
          "and all year round.",
          (1499, 125_000, 259_000), (V("DN-NASTAR-500", weight="500 g"),)),
        P("gula-aren", "Palm Sugar (Gula Aren) 500 g", Category.GROCERY,
          "Unrefined sugar palm nectar from Banten, with deep caramel notes.",
          (549, 38_000, 75_000), (V("DN-AREN-500", weight="500 g"),)),
        P("mie-goreng-jawa", "Mie Goreng Jawa, 5-pack", Category.GROCERY,
          "Javanese fried noodles with sweet soy and fried shallots; ready in four minutes.",
          (450, 27_500, 55_000),
          (V("DN-MIE-ORIGINAL", flavour="Original"), V("DN-MIE-PEDAS", flavour="Extra pedas"))),
    ),
)

# fmt: on

DEMO_SHOPS: tuple[DemoShop, ...] = (BEAUTY, FASHION, GADGETS, GROCERY)


def demo_image_slugs() -> list[str]:
    """Every ``/static/demo/<slug>.svg`` the demo data points at (shops, then products)."""
    return [s.slug for s in DEMO_SHOPS] + [p.slug for s in DEMO_SHOPS for p in s.products]
