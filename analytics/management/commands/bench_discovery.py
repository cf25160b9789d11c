"""Discovery benchmark: generate a large catalog into PostgreSQL and measure the pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/homecraft3d_bench \\
        python manage.py migrate && python manage.py bench_discovery

Generates (once; `--reset` removes earlier bench data) sellers, published listings,
engagement events and (when the reviews model exists) reviews, then requests every page
through Django's test client against that database and prints, per page: SQL queries and
server time p50/p95 over `--requests` runs, plus the trending recompute time. Figures and
targets are in docs/PERFORMANCE.md. Never run it against a production database.
"""

import random
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from analytics.models import ProductEngagementEvent
from catalog.models import Category, License, Product
from marketplace.models import SellerProfile, User
from payments.models import SellerStripeAccount

WORDS = [
    "planter",
    "vase",
    "hook",
    "clip",
    "gear",
    "bracket",
    "holder",
    "box",
    "lamp",
    "dragon",
    "knight",
    "mech",
    "tower",
    "dice",
    "tray",
    "organizer",
    "stand",
    "mount",
    "spool",
    "duct",
    "case",
    "shelf",
    "coaster",
    "bowl",
    "sculpture",
    "mask",
    "helmet",
    "crown",
    "terrain",
    "base",
    "figure",
    "puzzle",
    "toy",
    "whistle",
    "comb",
    "key",
    "tag",
    "sign",
    "frame",
    "label",
    "cover",
    "adapter",
]
BENCH_DOMAIN = "bench.homecraft3d.test"


class Command(BaseCommand):
    help = "Generate a large catalog into PostgreSQL and print per-page query counts and timings."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=100_000)
        parser.add_argument("--sellers", type=int, default=2_000)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--reviews", type=int, default=200_000)
        parser.add_argument("--requests", type=int, default=30, help="runs per page")
        parser.add_argument("--reset", action="store_true", help="delete earlier bench data")
        parser.add_argument("--measure-only", action="store_true")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to a bench DB.")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        if opts["reset"]:
            self._reset()
        if not opts["measure_only"]:
            self._generate(opts)
        self._measure(opts["requests"])

    # -- data ---------------------------------------------------------------------------
    def _reset(self):
        started = time.monotonic()
        bench = Product.objects.filter(slug__startswith="bench-")
        ProductEngagementEvent.objects.filter(product__in=bench).delete()
        review = _review_model()
        if review is not None:
            review.objects.filter(product__in=bench).delete()
        bench.delete()
        SellerStripeAccount.objects.filter(seller__email__endswith=BENCH_DOMAIN).delete()
        SellerProfile.objects.filter(user__email__endswith=BENCH_DOMAIN).delete()
        User.objects.filter(email__endswith=BENCH_DOMAIN).delete()
        self.stdout.write(f"reset in {time.monotonic() - started:.1f} s")

    def _generate(self, opts):
        if Product.objects.filter(slug__startswith="bench-").exists():
            self.stdout.write("bench data present: measuring it (use --reset to regenerate)")
            return
        rng = random.Random(42)
        now = timezone.now()
        t0 = time.monotonic()
        sellers = User.objects.bulk_create(
            [
                User(email=f"seller{i}@{BENCH_DOMAIN}", name=f"Seller {i}", password="!")
                for i in range(opts["sellers"])
            ],
            batch_size=5000,
        )
        SellerProfile.objects.bulk_create(
            [
                SellerProfile(user=u, display_name=f"Bench Shop {i}", slug=f"bench-shop-{i}")
                for i, u in enumerate(sellers)
            ],
            batch_size=5000,
        )
        SellerStripeAccount.objects.bulk_create(
            [
                SellerStripeAccount(
                    seller=u,
                    stripe_account_id=f"acct_bench_{u.pk}",
                    charges_enabled=True,
                    payouts_enabled=True,
                    details_submitted=True,
                )
                for u in sellers
                if u.pk % 10
            ],
            batch_size=5000,
        )
        # What payments' readiness refresh would write for these ready accounts, in bulk.
        User.objects.filter(pk__in=[u.pk for u in sellers if u.pk % 10]).update(can_be_paid=True)
        buyers = User.objects.bulk_create(
            [User(email=f"buyer{i}@{BENCH_DOMAIN}", password="!") for i in range(5000)],
            batch_size=5000,
        )
        categories = list(Category.objects.filter(depth=1))
        licenses = [c for c, _ in License.choices]
        formats = [",stl,", ",3mf,", ",stl,zip,", ",obj,", ",stl,3mf,"]
        self.stdout.write(f"users in {time.monotonic() - t0:.1f} s")

        t0 = time.monotonic()
        batch = []
        for i in range(opts["products"]):
            physical = i % 5 == 0
            title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i}"
            batch.append(
                Product(
                    seller=sellers[i % len(sellers)],
                    kind=Product.Kind.PHYSICAL if physical else Product.Kind.FILE,
                    title=title,
                    slug=f"bench-{i}",
                    description=" ".join(rng.choice(WORDS) for _ in range(30)),
                    price_cents=rng.randint(50, 9000) if physical or i % 3 else 0,
                    currency="usd",
                    category=categories[i % len(categories)],
                    status=Product.Status.PUBLISHED,
                    published_at=now - timedelta(minutes=rng.randint(0, 90 * 24 * 60)),
                    license="" if physical else licenses[i % len(licenses)],
                    file_formats="" if physical else formats[i % len(formats)],
                    stock_quantity=rng.randint(0, 20) if physical else 0,
                    download_count=rng.randint(0, 5000),
                )
            )
            if len(batch) == 5000:
                Product.objects.bulk_create(batch)
                batch = []
        Product.objects.bulk_create(batch)
        product_ids = list(
            Product.objects.filter(slug__startswith="bench-").values_list("pk", flat=True)
        )
        self.stdout.write(f"{len(product_ids)} products in {time.monotonic() - t0:.1f} s")

        t0 = time.monotonic()
        kinds = ["VIEW"] * 8 + ["CLICK"] + ["ADD_TO_CART"]
        window = settings_window_seconds()
        for start in range(0, opts["events"], 50_000):
            ProductEngagementEvent.objects.bulk_create(
                [
                    ProductEngagementEvent(
                        product_id=product_ids[int(rng.paretovariate(1.2)) % len(product_ids)],
                        kind=rng.choice(kinds),
                        session_key=f"s{rng.randint(1, 200_000)}",
                    )
                    for _ in range(min(50_000, opts["events"] - start))
                ]
            )
        # spread them over the window (and a little before it), set-based
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE analytics_productengagementevent SET created_at = now() - "
                "(random() * %s) * interval '1 second' "
                "WHERE product_id IN (SELECT id FROM catalog_product WHERE slug LIKE 'bench-%%')",
                [window * 1.3],
            )
        self.stdout.write(f"{opts['events']} events in {time.monotonic() - t0:.1f} s")

        review = _review_model()
        if review is not None and opts["reviews"]:
            t0 = time.monotonic()
            per_product = max(1, opts["reviews"] // len(product_ids))
            rows = []
            for n in range(opts["reviews"]):
                product_id = product_ids[n % len(product_ids)]
                author = buyers[(n // len(product_ids)) % len(buyers)]
                rows.append(
                    review(
                        product_id=product_id,
                        author=author,
                        rating=rng.choice([3, 4, 4, 5, 5]),
                        body="Printed fine, good tolerances.",
                        is_verified_purchase=True,
                    )
                )
                if len(rows) == 20_000:
                    review.objects.bulk_create(rows, ignore_conflicts=True)
                    rows = []
            review.objects.bulk_create(rows, ignore_conflicts=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE catalog_product p SET rating_count = r.c, rating_sum = r.s FROM "
                    "(SELECT product_id, count(*) c, sum(rating) s FROM catalog_review "
                    "GROUP BY product_id) r WHERE r.product_id = p.id"
                )
            self.stdout.write(f"reviews ({per_product}/product) in {time.monotonic() - t0:.1f} s")
        # The first recompute scores every listing: do it here, then VACUUM ANALYZE, as
        # autovacuum would soon after in production, so the planner measures settled data
        # and not 100k dead row versions with statistics from before any score existed.
        from analytics.trending import trending_recompute

        t0 = time.monotonic()
        trending_recompute()
        self.stdout.write(f"first trending recompute in {time.monotonic() - t0:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # -- measurements ---------------------------------------------------------------------
    def _measure(self, runs: int):
        from analytics.trending import trending_recompute

        started = time.monotonic()
        trending_recompute()
        recompute = time.monotonic() - started
        products = Product.objects.filter(slug__startswith="bench-").count()
        events = ProductEngagementEvent.objects.count()
        self.stdout.write(f"\ncatalog: {products} bench products, {events} events")
        self.stdout.write(f"trending recompute: {recompute:.2f} s (target ≤ 20 s)\n")

        sample = Product.objects.filter(slug__startswith="bench-").order_by("pk")[500]
        pages = [("home", "/"), ("product detail", sample.get_absolute_url())]
        pages += [
            (f"browse sort={s or 'default'}", f"/browse/?sort={s}")
            for s in ("", "new", "trending", "top", "price_asc", "price_desc", "downloads")
        ]
        pages += [
            ("browse filtered", "/browse/?kind=FILE&price=paid&min_rating=4&file_format=stl"),
            ("category", f"/c/{sample.category.slug}/"),
            ("search", "/search/?q=dragon+tower"),
            ("search typo", "/search/?q=dragn"),
            ("search page 5", "/search/?q=planter&page=5"),
            ("search sorted by price", "/search/?q=planter&sort=price_asc"),
            ("search, filtered", "/search/?q=dragon&kind=FILE&price=paid&min_rating=4"),
            ("search, rare words", f"/search/?q={sample.title.split()[-1]}"),
            ("autocomplete", "/search/suggest/?q=plan"),
            ("autocomplete typo", "/search/suggest/?q=planer"),
        ]
        # The same pages with an empty cache before every request: what a page nobody asked
        # for in the last minute costs (totals, the trending Top N, SiteConfig not cached).
        pages += [(f"{name} (cold)", url) for name, url in pages if "suggest" not in url]
        client = Client()
        plain_static = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=plain_static, SECURE_SSL_REDIRECT=False):
            self._measure_pages(client, pages, runs)

    def _measure_pages(self, client, pages, runs):
        self.stdout.write(f"{'page':32} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for name, url in pages:
            client.get(url)  # warm caches and connections
            timings = []
            executed = []

            def count(execute, sql, params, many, context, executed=executed):
                executed.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url)
            for _ in range(runs):
                if name.endswith("(cold)"):
                    cache.clear()
                t = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            self.stdout.write(
                f"{name:32} {len(executed):>7} {statistics.median(timings):>8.1f} {p95:>8.1f}"
            )


def _review_model():
    from django.apps import apps

    try:
        return apps.get_model("catalog", "Review")
    except LookupError:
        return None


def settings_window_seconds() -> int:
    from marketplace.selectors import site_config_get

    return site_config_get().trending_window_days * 86400
