"""Demo purchases and reviews for `seed_demo`, so ratings, Top Rated and the rating filter
have something to show on a fresh install.

Every step goes through the real services: the demo buyers' carts become orders
(`order_create_from_cart`, printed items shipped to the US), are sent to payment
(`checkout_start`) and paid on the local payment simulator (`simulator_session_pay`,
which delivers the signed webhook), so the ledger, payouts and the review evidence are
what a real sale leaves. The reviews and seller replies are written with
`catalog.reviews`, which checks that evidence. Idempotent: a buyer buys only what they
have no paid line of yet, and a review or reply that exists is left alone.
"""

from django.conf import settings
from django.test import TestCase

from catalog.models import Product, Review, ReviewReply
from catalog.reviews import review_eligibility, review_reply_upsert, review_upsert
from marketplace.models import User
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.simulator import simulator_session_pay

MAPLE = "maple@demo.homecraft3d.test"
ORBIT = "orbit@demo.homecraft3d.test"
GEARHEAD = "gearhead@demo.homecraft3d.test"

# What the simulator's checkout page is typed with (the country is the session's).
DEMO_SHIPPING_ADDRESS = {
    "name": "Bea Buyer",
    "line1": "12 Filament Lane",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "country": "US",
}

# (buyer, seller, listing title, stars, review, the seller's reply or "")
DEMO_REVIEWS: list[tuple[str, str, str, int, str, str]] = [
    (
        "buyer@demo.homecraft3d.test",
        MAPLE,
        "Self-Watering Succulent Planter",
        5,
        "Printed first time in PETG and the wick keeps my echeveria happy for two weeks.",
        "So glad it works for you! A cotton wick lasts longest.",
    ),
    (
        "maker@demo.homecraft3d.test",
        MAPLE,
        "Self-Watering Succulent Planter",
        5,
        "Clean model, no repairs needed in the slicer. Printed three for the kitchen sill.",
        "",
    ),
    (
        "tinkerer@demo.homecraft3d.test",
        MAPLE,
        "Self-Watering Succulent Planter",
        4,
        "Looks great; the reservoir lid is a snug fit, I had to sand it a little.",
        "Thanks for the note: version 2 of the file has 0.2 mm more clearance on the lid.",
    ),
    (
        "buyer@demo.homecraft3d.test",
        MAPLE,
        "Twisted Vase",
        4,
        "Lovely in vase mode with a silk filament. Watertight after two coats of spray.",
        "",
    ),
    (
        "buyer@demo.homecraft3d.test",
        MAPLE,
        "Printed Planter Trio (PLA, terracotta)",
        5,
        "Arrived well packed, the terracotta colour is spot on. Very happy with them.",
        "Thank you! Enjoy the planters.",
    ),
    (
        "tinkerer@demo.homecraft3d.test",
        MAPLE,
        "Spice Jar Rack Insert",
        4,
        "Fits my drawer exactly once scaled to 98%. The guide explains how to measure.",
        "",
    ),
    (
        "buyer@demo.homecraft3d.test",
        ORBIT,
        "Dwarf Ranger, Pre-Supported",
        5,
        "The supports are placed well and snapped off cleanly. Great detail at 32 mm.",
        "",
    ),
    (
        "maker@demo.homecraft3d.test",
        ORBIT,
        "Dwarf Ranger, Pre-Supported",
        4,
        "Printed fine on my Mars 3; one support on the bow needed moving.",
        "Thanks, I moved that support in the latest upload.",
    ),
    (
        "tinkerer@demo.homecraft3d.test",
        ORBIT,
        "Dwarf Ranger, Pre-Supported",
        5,
        "My favourite mini of the year, my players loved it.",
        "",
    ),
    (
        "maker@demo.homecraft3d.test",
        ORBIT,
        "Sci-Fi Crate Terrain Set",
        5,
        "Lots of variety, prints fast and stacks nicely on the table.",
        "",
    ),
    (
        "tinkerer@demo.homecraft3d.test",
        ORBIT,
        "Mech Walker Scout",
        3,
        "Nice design but the leg joints are fragile at this scale. Print them solid.",
        "Good tip. The print guide now recommends 100% infill for the legs.",
    ),
    (
        "buyer@demo.homecraft3d.test",
        GEARHEAD,
        "Drill Bit Organizer",
        4,
        "Holds my whole metric set. The labels came out crisp with a 0.4 mm nozzle.",
        "",
    ),
    (
        "maker@demo.homecraft3d.test",
        GEARHEAD,
        "Drill Bit Organizer",
        5,
        "Exactly what my bench needed. Printed in PETG, sturdy and tidy.",
        "",
    ),
    (
        "tinkerer@demo.homecraft3d.test",
        GEARHEAD,
        "Drill Bit Organizer",
        5,
        "Perfect tolerances, every bit drops in and stays put.",
        "Thank you, Tia!",
    ),
    (
        "buyer@demo.homecraft3d.test",
        GEARHEAD,
        "90° Clamp Jig",
        5,
        "Square out of the printer and strong enough for glue-ups.",
        "",
    ),
    (
        "maker@demo.homecraft3d.test",
        GEARHEAD,
        "Furniture Leg Glides (PETG, 8 pack)",
        4,
        "They slide nicely on tiles and stopped the scratching. Quick shipping.",
        "",
    ),
]


def _listing(seller_email: str, title: str) -> Product | None:
    return Product.objects.filter(
        seller__email=seller_email, title=title, status=Product.Status.PUBLISHED
    ).first()


def _buy(buyer: User, products: list[Product]) -> None:
    """One paid order of `products` for `buyer`, through checkout and the simulator."""
    order = order_create_from_cart(
        cart={str(p.pk): 1 for p in products},
        buyer=buyer,
        email=buyer.email,
        ship_to_country="US",
    )
    site = settings.SITE_URL.rstrip("/")
    redirect = checkout_start(
        order=order, success_url=f"{site}/orders/", cancel_url=f"{site}/cart/"
    )
    order = redirect.order
    order.refresh_from_db()
    if order.stripe_checkout_session_id:
        shipping = {**DEMO_SHIPPING_ADDRESS, "name": buyer.name or buyer.email}
        # The payment's follow-ups (receipt, payouts) run on commit: run them now, as
        # they would after a real webhook, whether or not a transaction is open.
        with TestCase.captureOnCommitCallbacks(execute=True):
            simulator_session_pay(session_id=order.stripe_checkout_session_id, shipping=shipping)


def seed_reviews() -> int:
    """Buy what the demo reviews need, then write the reviews and replies that do not
    exist yet. Returns how many reviews were created."""
    plan: dict[User, list[tuple]] = {}
    for buyer_email, seller_email, title, stars, body, reply in DEMO_REVIEWS:
        buyer = User.objects.filter(email=buyer_email).first()
        product = _listing(seller_email, title)
        if buyer is None or product is None:
            continue
        plan.setdefault(buyer, []).append((product, stars, body, reply))
    created = 0
    for buyer, reviews in plan.items():
        to_buy = [
            product
            for product, *_ in reviews
            if not Review.objects.filter(product=product, author=buyer).exists()
            and review_eligibility(product=product, user=buyer)
        ]
        if to_buy:
            _buy(buyer, to_buy)
        for product, stars, body, reply in reviews:
            review = Review.objects.filter(product=product, author=buyer).first()
            if review is None:
                review = review_upsert(product=product, author=buyer, rating=stars, body=body)
                created += 1
            if reply and not ReviewReply.objects.filter(review=review).exists():
                review_reply_upsert(review=review, seller=product.seller, body=reply)
    return created
