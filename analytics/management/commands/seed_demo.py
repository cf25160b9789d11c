"""Demo data for the embedded default. Safe to run any number of times.

Accounts are looked up by email and brought back to the known state (password,
verified address, shop), so running it twice leaves exactly one of each. Later
capabilities add a call to their own app's demo seeding at the end of `handle`.

It lives in analytics, the top layer, because it wires every app's demo seeding
(marketplace accounts, catalog listings, payments' ready Stripe accounts, demo orders
paid on the simulator and the reviews they allow, engagement).
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from analytics.demo import seed_engagement
from analytics.demo_reviews import seed_reviews
from catalog.demo import seed_catalog
from catalog.models import Product
from marketplace.models import SellerProfile, User
from marketplace.selectors import site_config_get
from payments.demo import seller_stripe_account_demo_ready

DEMO_PASSWORD = "homecraft-demo"  # noqa: S105 - printed on purpose; demo accounts only
STAFF = {"email": "staff@demo.homecraft3d.test", "name": "Sam Staff"}
SELLERS = [
    {
        "email": "maple@demo.homecraft3d.test",
        "name": "Maya Maple",
        "shop": "Maple Print Works",
        "slug": "maple-print-works",
        "bio": "Functional prints for the home and garden: hooks, planters, spare parts.",
    },
    {
        "email": "orbit@demo.homecraft3d.test",
        "name": "Omar Orbit",
        "shop": "Orbit Miniatures",
        "slug": "orbit-miniatures",
        "bio": "Pre-supported tabletop miniatures, 32 mm scale, resin and FDM tested.",
    },
    {
        "email": "gearhead@demo.homecraft3d.test",
        "name": "Greta Gear",
        "shop": "Gearhead Tools",
        "slug": "gearhead-tools",
        "bio": "Workshop jigs, tool holders and replacement parts printed in PETG and ASA.",
    },
    {
        "email": "cosplay@demo.homecraft3d.test",
        "name": "Cleo Costume",
        "shop": "Cleo's Cosplay Lab",
        "slug": "cleos-cosplay-lab",
        "bio": "Wearable props and armour pieces, sized and split for home printers.",
    },
]
BUYERS = [
    {"email": "buyer@demo.homecraft3d.test", "name": "Bea Buyer"},
    {"email": "maker@demo.homecraft3d.test", "name": "Milo Maker"},
    {"email": "tinkerer@demo.homecraft3d.test", "name": "Tia Tinkerer"},
]


def _demo_user(*, email: str, name: str, is_staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, name=name)
    user.name = name
    user.is_staff = is_staff
    user.is_superuser = is_staff
    user.is_active = True
    user.set_password(DEMO_PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create or refresh the demo marketplace (idempotent). Prints the demo logins."

    @transaction.atomic
    def handle(self, *args, **options):
        site_config_get()
        staff = _demo_user(**STAFF, is_staff=True)
        sellers = []
        for spec in SELLERS:
            user = _demo_user(email=spec["email"], name=spec["name"])
            SellerProfile.objects.update_or_create(
                user=user,
                defaults={"display_name": spec["shop"], "slug": spec["slug"], "bio": spec["bio"]},
            )
            sellers.append(user)
        buyers = [_demo_user(**spec) for spec in BUYERS]
        created = seed_catalog(
            make_seller_ready=seller_stripe_account_demo_ready, stdout=self.stdout
        )
        reviews = seed_reviews()  # paid demo orders, then reviews and seller replies
        seed_engagement()

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo marketplace ready: {Product.objects.count()} listings "
                f"({created} new this run), {reviews} new reviews."
            )
        )
        self.stdout.write(f"All demo accounts use the password: {DEMO_PASSWORD}")
        self.stdout.write(f"  staff   {staff.email}  (admin at /admin/)")
        for user in sellers:
            self.stdout.write(f"  seller  {user.email}  shop /shops/{user.seller_profile.slug}/")
        for user in buyers:
            self.stdout.write(f"  buyer   {user.email}")
