"""Demo listings for `seed_demo`: real files made in code, published through the same
services (and the same checklist) a seller uses. Idempotent by (seller, title)."""

import io
import math
import struct
from collections.abc import Callable
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from catalog import services
from catalog.category_tree import ensure_category_tree
from catalog.models import Category, License, Product, ShippingProfile
from marketplace.exceptions import ApplicationError
from marketplace.models import User

Vec = tuple[float, float, float]


# ------------------------------------------------------------------------------
# Meshes
# ------------------------------------------------------------------------------
def binary_stl(triangles: list[tuple[Vec, Vec, Vec]], name: str = "demo") -> bytes:
    out = io.BytesIO()
    out.write(f"Home Craft 3D demo: {name}".encode()[:80].ljust(80, b" "))
    out.write(struct.pack("<I", len(triangles)))
    for a, b, c in triangles:
        u = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
        v = (c[0] - a[0], c[1] - a[1], c[2] - a[2])
        n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        length = math.sqrt(sum(x * x for x in n)) or 1.0
        out.write(struct.pack("<3f", *(x / length for x in n)))
        for vertex in (a, b, c):
            out.write(struct.pack("<3f", *vertex))
        out.write(b"\0\0")
    return out.getvalue()


def prism(sides: int, radius: float, height: float, *, star: bool = False) -> list:
    """A closed n-gon (or star) prism, centred on the Z axis."""
    points = []
    count = sides * 2 if star else sides
    for i in range(count):
        angle = 2 * math.pi * i / count
        r = radius * (0.45 if star and i % 2 else 1.0)
        points.append((r * math.cos(angle), r * math.sin(angle)))
    tris = []
    bottom, top = (0.0, 0.0, 0.0), (0.0, 0.0, height)
    for i, (x1, y1) in enumerate(points):
        x2, y2 = points[(i + 1) % len(points)]
        tris.append((bottom, (x2, y2, 0.0), (x1, y1, 0.0)))
        tris.append((top, (x1, y1, height), (x2, y2, height)))
        tris.append(((x1, y1, 0.0), (x2, y2, 0.0), (x2, y2, height)))
        tris.append(((x1, y1, 0.0), (x2, y2, height), (x1, y1, height)))
    return tris


def pyramid(sides: int, radius: float, height: float) -> list:
    tris = []
    apex, centre = (0.0, 0.0, height), (0.0, 0.0, 0.0)
    for i in range(sides):
        a1, a2 = 2 * math.pi * i / sides, 2 * math.pi * (i + 1) / sides
        p1 = (radius * math.cos(a1), radius * math.sin(a1), 0.0)
        p2 = (radius * math.cos(a2), radius * math.sin(a2), 0.0)
        tris += [(centre, p2, p1), (p1, p2, apex)]
    return tris


def torus(radius: float, tube: float, segments: int = 32, rings: int = 16) -> list:
    def point(i: int, j: int) -> Vec:
        u, v = 2 * math.pi * i / segments, 2 * math.pi * j / rings
        return (
            (radius + tube * math.cos(v)) * math.cos(u),
            (radius + tube * math.cos(v)) * math.sin(u),
            tube * math.sin(v) + tube,
        )

    tris = []
    for i in range(segments):
        for j in range(rings):
            a, b = point(i, j), point(i + 1, j)
            c, d = point(i + 1, j + 1), point(i, j + 1)
            tris += [(a, b, c), (a, c, d)]
    return tris


SHAPES = {
    "box": lambda: prism(4, 30, 25),
    "hex": lambda: prism(6, 25, 40),
    "cylinder": lambda: prism(40, 20, 50),
    "star": lambda: prism(5, 30, 8, star=True),
    "pyramid": lambda: pyramid(4, 30, 40),
    "cone": lambda: pyramid(36, 20, 45),
    "torus": lambda: torus(25, 7),
}


# ------------------------------------------------------------------------------
# Cover pictures
# ------------------------------------------------------------------------------
PALETTES = [
    ((255, 237, 213), (234, 88, 12)),
    ((220, 252, 231), (22, 163, 74)),
    ((224, 231, 255), (79, 70, 229)),
    ((254, 226, 226), (220, 38, 38)),
    ((207, 250, 254), (8, 145, 178)),
    ((254, 249, 195), (202, 138, 4)),
    ((243, 232, 255), (147, 51, 234)),
]


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow: bitmap font only
        return ImageFont.load_default()


def _title_fitted(draw, title: str, *, width: int):
    """The whole title in the cover's band, never cut: one line in the largest size that
    fits, else two lines split at a word, smaller."""
    for size in (44, 40, 36, 32):
        font = _font(size)
        if draw.textlength(title, font=font) <= width:
            return [title], font
    words = title.split()
    for size in (36, 32, 28, 24):
        font = _font(size)
        for cut in range(len(words) - 1, 0, -1):
            first, second = " ".join(words[:cut]), " ".join(words[cut:])
            if draw.textlength(first, font=font) <= width and (
                draw.textlength(second, font=font) <= width
            ):
                return [first, second], font
    font = _font(24)
    return [title], font


def cover_png(title: str, shape: str, index: int) -> bytes:
    background, ink = PALETTES[index % len(PALETTES)]
    image = Image.new("RGB", (960, 720), background)
    draw = ImageDraw.Draw(image)
    for y in range(0, 720, 48):  # a print-bed grid
        draw.line([(0, y), (960, y)], fill=tuple(max(c - 18, 0) for c in background))
    for x in range(0, 960, 48):
        draw.line([(x, 0), (x, 720)], fill=tuple(max(c - 18, 0) for c in background))
    cx, cy, r = 480, 330, 190
    if shape in ("box",):
        draw.rounded_rectangle([cx - r, cy - r * 0.8, cx + r, cy + r * 0.8], 24, fill=ink)
    elif shape in ("pyramid", "cone"):
        draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=ink)
    elif shape == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + math.pi * i / 5
            rr = r if i % 2 == 0 else r * 0.45
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=ink)
    elif shape == "hex":
        draw.regular_polygon((cx, cy, r), 6, fill=ink)
    elif shape == "torus":
        draw.ellipse([cx - r, cy - r * 0.7, cx + r, cy + r * 0.7], fill=ink)
        draw.ellipse([cx - r * 0.45, cy - r * 0.3, cx + r * 0.45, cy + r * 0.3], fill=background)
    else:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ink)
    draw.rectangle([0, 600, 960, 720], fill=(255, 255, 255))
    lines, font = _title_fitted(draw, title, width=880)
    top = 660 - sum(font.size + 6 for _ in lines) // 2
    for number, line in enumerate(lines):
        draw.text((40, top + number * (font.size + 6)), line, fill=(30, 30, 30), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ------------------------------------------------------------------------------
# Listings
# ------------------------------------------------------------------------------
# (title, category slug, kind, price cents, shape, licence or None)
LISTINGS: dict[str, list[tuple]] = {
    "maple@demo.homecraft3d.test": [
        (
            "Self-Watering Succulent Planter",
            "home-garden-planters",
            "FILE",
            450,
            "hex",
            License.PERSONAL,
        ),
        ("Hexagon Wall Shelf", "home-garden-decor", "FILE", 0, "hex", License.CC_BY),
        (
            "Cable Tidy Clips (set of 12)",
            "home-garden-storage-organisation",
            "FILE",
            0,
            "box",
            License.CC0,
        ),
        ("Spice Jar Rack Insert", "home-garden-kitchen", "FILE", 300, "box", License.PERSONAL),
        ("Twisted Vase", "art-vases", "FILE", 600, "cylinder", License.COMMERCIAL),
        ("Moon Lamp Shade", "home-garden-lighting", "FILE", 800, "torus", License.PERSONAL),
        (
            "Printed Planter Trio (PLA, terracotta)",
            "home-garden-planters",
            "PHYSICAL",
            2400,
            "hex",
            None,
        ),
        ("Bag Clip Pack", "home-garden-kitchen", "FILE", 0, "box", License.CC_BY_SA),
        ("Garden Hose Guide", "home-garden", "FILE", 250, "cone", License.PERSONAL),
        ("Printed Wall Hooks (4 pack)", "home-garden-decor", "PHYSICAL", 1500, "star", None),
        (
            "Pegboard Starter Kit",
            "home-garden-storage-organisation",
            "FILE",
            500,
            "box",
            License.COMMERCIAL,
        ),
    ],
    "orbit@demo.homecraft3d.test": [
        (
            "Dwarf Ranger, Pre-Supported",
            "miniatures-fantasy",
            "FILE",
            700,
            "cone",
            License.PERSONAL,
        ),
        (
            "Sci-Fi Crate Terrain Set",
            "miniatures-terrain-scenery",
            "FILE",
            900,
            "box",
            License.COMMERCIAL,
        ),
        ("Round Bases 25/32/40 mm", "miniatures-bases", "FILE", 0, "cylinder", License.CC0),
        ("Mech Walker Scout", "miniatures-sci-fi", "FILE", 1200, "pyramid", License.PERSONAL),
        ("Ruined Tower Ruins", "miniatures-terrain-scenery", "FILE", 1100, "hex", License.PERSONAL),
        ("Dice Tower", "toys-games-board-game-inserts", "FILE", 400, "box", License.CC_BY_NC),
        ("Painted Dragon Miniature", "miniatures-fantasy", "PHYSICAL", 3500, "star", None),
        ("Wizard Familiars Pack", "miniatures-fantasy", "FILE", 500, "torus", License.PERSONAL),
        ("Hex Terrain Tiles", "miniatures-terrain-scenery", "FILE", 0, "hex", License.CC_BY),
        (
            "Resin Space Marine Squad (printed)",
            "miniatures-sci-fi",
            "PHYSICAL",
            4200,
            "pyramid",
            None,
        ),
        ("Card Deck Box", "toys-games-board-game-inserts", "FILE", 0, "box", License.CC_BY),
    ],
    "gearhead@demo.homecraft3d.test": [
        ("Drill Bit Organizer", "tools-tool-holders", "FILE", 350, "box", License.COMMERCIAL),
        ("90° Clamp Jig", "tools-workshop-jigs", "FILE", 400, "box", License.PERSONAL),
        ("Calibration Cube XYZ", "3d-printer-upgrades-calibration", "FILE", 0, "box", License.CC0),
        (
            "Spool Holder With Bearings",
            "3d-printer-upgrades-spool-holders",
            "FILE",
            0,
            "cylinder",
            License.CC_BY,
        ),
        (
            "Raspberry Pi 5 Case",
            "tools-electronics-enclosures",
            "FILE",
            300,
            "box",
            License.CC_BY_SA,
        ),
        (
            "Dishwasher Wheel Replacement",
            "replacement-parts-appliance-parts",
            "FILE",
            200,
            "cylinder",
            License.PERSONAL,
        ),
        (
            "Furniture Leg Glides (PETG, 8 pack)",
            "replacement-parts-furniture-hardware",
            "PHYSICAL",
            1200,
            "cylinder",
            None,
        ),
        (
            "Car Cup Holder Adapter",
            "replacement-parts-automotive",
            "FILE",
            350,
            "cylinder",
            License.PERSONAL,
        ),
        ("Digital Caliper Stand", "tools-measuring", "FILE", 0, "pyramid", License.CC_BY),
        ("Printed Tool Wall Set (ASA)", "tools-tool-holders", "PHYSICAL", 3900, "hex", None),
        (
            "Blower Fan Duct 5015",
            "3d-printer-upgrades-fan-ducts",
            "FILE",
            250,
            "cone",
            License.CC_BY_NC,
        ),
    ],
    "cosplay@demo.homecraft3d.test": [
        (
            "Knight Helmet, Split for Printing",
            "cosplay-helmets-masks",
            "FILE",
            1500,
            "pyramid",
            License.PERSONAL,
        ),
        ("Sci-Fi Blaster Prop", "cosplay-props-weapons", "FILE", 1800, "box", License.PERSONAL),
        ("Gauntlet Armour Set", "cosplay-armour", "FILE", 1400, "hex", License.PERSONAL),
        ("Elf Ear Tips", "cosplay", "FILE", 0, "cone", License.CC_BY),
        ("Crown of Stars", "cosplay-props-weapons", "FILE", 0, "star", License.CC_BY_NC),
        ("Mask Strap Buckles", "cosplay-helmets-masks", "FILE", 0, "torus", License.CC0),
        (
            "Finished Knight Helmet (painted)",
            "cosplay-helmets-masks",
            "PHYSICAL",
            18000,
            "pyramid",
            None,
        ),
        ("Anatomy Heart Model", "education-anatomy", "FILE", 0, "torus", License.CC_BY),
        ("Planet Orbit Kit", "education-science-models", "FILE", 0, "cylinder", License.CC_BY),
        ("Fraction Tiles", "education-maths-manipulatives", "FILE", 0, "box", License.CC0),
        ("Jewellery Pendant Star", "art-jewellery", "FILE", 0, "star", License.CC_BY),
    ],
}

# Sellers whose Stripe account is complete; the others can only publish free files.
READY_SELLERS = {
    "maple@demo.homecraft3d.test",
    "orbit@demo.homecraft3d.test",
    "gearhead@demo.homecraft3d.test",
}


MATERIALS = ["PLA", "PETG", "ASA", "Resin"]
COLOURS = ["Terracotta", "Graphite", "Forest green", "Bone white"]


def _material(title: str, category_slug: str, index: int) -> str:
    """The material a title names (e.g. "(ASA)"), resin for miniatures, else a rotation:
    the specs never contradict the title or the tags."""
    words = title.replace("(", " ").replace(")", " ").replace(",", " ").split()
    for material in MATERIALS:
        if material in words:
            return material
    if category_slug.startswith("miniatures"):
        return "Resin"
    return MATERIALS[index % len(MATERIALS)]


def _colour(title: str, index: int) -> str:
    for colour in COLOURS:
        if colour.lower() in title.lower():
            return colour
    return COLOURS[index % len(COLOURS)]


def _supports_needed(title: str, index: int) -> bool:
    return "pre-supported" in title.lower() or index % 3 == 0


def _description(title: str, kind: str, *, material: str, supports: bool = False) -> str:
    if kind == "FILE":
        if "pre-supported" in title.lower():
            supports_line = "- Supports included: the files come pre-supported"
        elif supports:
            supports_line = "- Needs supports under the overhangs (tree supports work best)"
        else:
            supports_line = "- Prints without supports in the recommended orientation"
        nozzle = (
            "- Tested on an MSLA resin printer at 0.05 mm layers"
            if material == "Resin"
            else "- Tolerances tuned for a 0.4 mm nozzle"
        )
        return (
            f"**{title}** — test-printed in {material} before release.\n\n"
            f"{supports_line}\n"
            f"{nozzle}\n"
            "- Includes the STL and a short print guide\n\n"
            "Questions? Ask below and I usually answer within a day."
        )
    build = (
        "- Printed in resin, cured and cleaned by hand"
        if material == "Resin"
        else f"- Printed in {material} with solid walls and 20% gyroid infill for strength"
    )
    return (
        f"**{title}**, printed to order in my workshop and checked by hand.\n\n"
        f"{build}\n"
        "- Packed in recycled paper\n\n"
        "Colour may vary slightly from the photos."
    )


# Each demo shop's shipping profile: (origin, processing min, max, free over cents,
# [(country or "" for everywhere else, first item cents, additional item cents)]).
DEMO_SHIPPING: dict[str, tuple] = {
    "maple@demo.homecraft3d.test": (
        "US",
        1,
        3,
        7500,
        [("US", 495, 150), ("CA", 1195, 300), ("", 1995, 500)],
    ),
    "orbit@demo.homecraft3d.test": (
        "CA",
        2,
        4,
        None,
        [("CA", 795, 200), ("US", 1195, 300), ("", 2495, 600)],
    ),
    "gearhead@demo.homecraft3d.test": (
        "GB",
        1,
        2,
        10000,
        [("GB", 395, 100), ("", 1895, 400)],
    ),
    "cosplay@demo.homecraft3d.test": (
        "US",
        3,
        5,
        None,
        [("US", 695, 200), ("CA", 1495, 400)],
    ),
}


def _demo_shipping_profile(seller: User) -> ShippingProfile | None:
    existing = ShippingProfile.objects.filter(seller=seller).first()
    if existing is not None or seller.email not in DEMO_SHIPPING:
        return existing
    origin, low, high, free_over, rates = DEMO_SHIPPING[seller.email]
    return services.shipping_profile_create(
        seller=seller,
        name="Standard parcels",
        origin_country=origin,
        processing_min_days=low,
        processing_max_days=high,
        free_over_cents=free_over,
        rates=[services.RateInput(c, first, extra) for c, first, extra in rates],
    )


def seed_catalog(*, make_seller_ready: Callable[[User], None] | None = None, stdout=None) -> int:
    """Create the demo listings that do not exist yet; returns how many were created.

    `make_seller_ready(seller)` is called for each of `READY_SELLERS` before their
    listings are published (the caller, `seed_demo`, passes payments' demo Stripe
    account); without it their paid listings stay drafts."""
    ensure_category_tree(Category)  # normally made by the migration; cheap when present
    created = 0
    for email, listings in LISTINGS.items():
        seller = User.objects.get(email=email)
        if email in READY_SELLERS and make_seller_ready is not None:
            make_seller_ready(seller)
        profile = _demo_shipping_profile(seller)
        for index, (title, category_slug, kind, price, shape, license_) in enumerate(listings):
            if Product.objects.filter(seller=seller, title=title).exists():
                continue
            material = _material(title, category_slug, index)
            supports = _supports_needed(title, index)
            values = {
                "description": _description(title, kind, material=material, supports=supports),
                "price_cents": price,
                "size_x_mm": Decimal(60 + 7 * index),
                "size_y_mm": Decimal(60 + 5 * index),
                "size_z_mm": Decimal(25 + 9 * index),
            }
            if kind == "FILE":
                values |= {
                    "license": license_,
                    "print_material": material,
                    "layer_height_mm": Decimal("0.05" if material == "Resin" else "0.20"),
                    "infill_percent": 15 + 5 * (index % 4),
                    "supports_needed": supports,
                    "print_time_minutes": 45 + 25 * index,
                    "bed_min_x_mm": 120,
                    "bed_min_y_mm": 120,
                    "bed_min_z_mm": 100,
                }
            else:
                values |= {
                    "material": material,
                    "colour": _colour(title, index),
                    "weight_grams": 80 + 40 * index,
                    "stock_quantity": [5, 2, 1, 12][index % 4],
                    "shipping_profile": profile,
                }
            product = services.product_create(
                seller=seller,
                kind=kind,
                title=title,
                category=Category.objects.get(slug=category_slug),
                tags=[shape, category_slug.split("-")[-1], material.lower()],
                **values,
            )
            slug = product.slug
            services.product_image_add(
                product=product,
                upload=SimpleUploadedFile(f"{slug}.png", cover_png(title, shape, index)),
                alt_text=title,
            )
            if kind == "FILE":
                services.digital_asset_add(
                    product=product,
                    upload=SimpleUploadedFile(f"{slug}.stl", binary_stl(SHAPES[shape](), title)),
                )
            try:
                services.product_publish(product=product)
            except ApplicationError as exc:  # e.g. a paid item of a seller without Stripe
                if stdout:
                    stdout.write(f"  left as draft: {title} ({exc.message})")
            created += 1
    return created
