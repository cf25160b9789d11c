"""The category tree every deployment starts with (applied by a data migration).

`ensure_category_tree` is idempotent and takes the model class, so the migration can pass
its historical model and `seed_demo` the real one.
"""

from django.utils.text import slugify

CATEGORY_TREE: list[tuple[str, list[str]]] = [
    ("Home & Garden", ["Kitchen", "Storage & Organisation", "Planters", "Decor", "Lighting"]),
    ("Tools", ["Workshop Jigs", "Tool Holders", "Measuring", "Electronics Enclosures"]),
    ("Toys & Games", ["Board Game Inserts", "Puzzles", "Fidget Toys", "Vehicles"]),
    ("Miniatures", ["Fantasy", "Sci-Fi", "Terrain & Scenery", "Bases"]),
    ("Art", ["Sculptures", "Wall Art", "Vases", "Jewellery"]),
    ("Replacement Parts", ["Appliance Parts", "Automotive", "Furniture Hardware"]),
    ("Cosplay", ["Armour", "Props & Weapons", "Helmets & Masks"]),
    ("Education", ["Science Models", "Maths Manipulatives", "Anatomy"]),
    ("3D Printer Upgrades", ["Spool Holders", "Fan Ducts", "Calibration"]),
]


def category_path(slug: str, parent_path: str = "") -> str:
    return f"{parent_path}{slug}/"


def ensure_category_tree(Category) -> int:
    """Create any missing category of CATEGORY_TREE; returns how many were created."""
    created = 0
    for position, (name, children) in enumerate(CATEGORY_TREE):
        slug = slugify(name)
        parent, made = Category.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "path": category_path(slug), "depth": 0, "position": position},
        )
        created += made
        for child_position, child_name in enumerate(children):
            child_slug = f"{slug}-{slugify(child_name)}"
            _, made = Category.objects.get_or_create(
                slug=child_slug,
                defaults={
                    "name": child_name,
                    "parent": parent,
                    "path": category_path(child_slug, parent.path),
                    "depth": 1,
                    "position": child_position,
                },
            )
            created += made
    return created
