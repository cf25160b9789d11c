"""Webhook intake and processing speed on the production shape, against the floor.

Starts its own gunicorn (and, for the processing phase, two Celery workers) on this
machine against DATABASE_URL (PostgreSQL) and REDIS_URL, then, in one run:

1. floor: the bare Django page (/bench/floor/, 60 KB, 24-item loop, no database);
2. intake: N signed `checkout.session.completed` deliveries from C concurrent clients,
   with no worker running (stored and answered, nothing else), then the floor again;
3. processing: two workers start on the N queued events; events per second until every
   one is processed (order PAID, ledger posted by the follow-up task).

Needs paid demo listings (`manage.py seed_demo`). Creates N orders (checkout on the
payment simulator, paid there) in that database: use a database of its own.
Figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from catalog.models import Product
from config.stackrun import Stack
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.models import SellerBalanceEntry, StripeEvent
from payments.simulator import event_sign, simulator_session_pay_undelivered


@dataclass
class Run:
    name: str
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0

    def line(self, floor: Run | None = None) -> str:
        ratio = f"{self.rps / floor.rps:5.2f}" if floor and floor.rps else "    -"
        return (
            f"{self.name:<28} {len(self.latencies):>6} req {self.rps:8.1f} req/s "
            f"p50 {self.pct(0.5):6.1f} ms  p95 {self.pct(0.95):6.1f} ms  "
            f"errors {self.errors}  ratio to floor {ratio}"
        )


def hammer(port: int, requests_: list[tuple[str, str, bytes, dict]], clients: int, name: str):
    """Send every (method, path, body, headers) from `clients` threads, one connection
    per request (gunicorn's sync workers close it anyway). Returns a Run."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    shares = [requests_[i::clients] for i in range(clients)]

    def worker(share):
        mine, bad = [], 0
        for method, path, body, headers in share:
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status != 200:
                    bad += 1
                    continue
            except OSError:
                bad += 1
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(name, time.perf_counter() - started, latencies, errors[0])


class Command(BaseCommand):
    help = "Measure webhook intake (req/s) and processing (events/s) against the floor page."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1000)
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--workers", type=int, default=2, help="Celery workers")
        parser.add_argument("--port", type=int, default=0, help="0: a free port")
        parser.add_argument("--log-dir", type=Path, default=None)

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("Run on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
        n, clients = opts["events"], opts["clients"]
        products = list(
            Product.objects.filter(status="PUBLISHED", kind="FILE", price_cents__gt=0)
            .filter(seller__stripe_account__isnull=False)
            .order_by("pk")[:8]
        )
        if not products:
            raise CommandError("No paid listing of a Stripe-ready seller: run seed_demo first.")
        self.stdout.write(f"Preparing {n} paid simulator checkouts...")
        bodies = [self._paid_checkout_body(products[i % len(products)], i) for i in range(n)]
        stack = Stack(
            database_url=settings.DATABASE_URL,
            redis_url=settings.REDIS_URL,
            port=opts["port"],
            web_workers=opts["web_workers"],
            log_dir=opts["log_dir"],
            env={"BENCH_FLOOR_PAGE": "true", "LOG_LEVEL": "WARNING"},
        )
        floor_requests = [("GET", "/bench/floor/", b"", {})] * n
        try:
            stack.start_web()
            hammer(stack.port, floor_requests[: 4 * clients], clients, "warm-up")
            floor1 = hammer(stack.port, floor_requests, clients, "floor /bench/floor/")
            secret = settings.STRIPE_WEBHOOK_SECRET
            deliveries = [
                (
                    "POST",
                    "/stripe/webhook/",
                    body,
                    {
                        "Content-Type": "application/json",
                        "Stripe-Signature": event_sign(body, secret),
                    },
                )
                for body in bodies
            ]
            intake = hammer(stack.port, deliveries, clients, "webhook intake")
            floor2 = hammer(stack.port, floor_requests, clients, "floor again")
            stored = StripeEvent.objects.filter(status="RECEIVED").count()
            # processing: the queue holds one task per stored event
            started = time.perf_counter()
            for i in range(opts["workers"]):
                stack.start_worker(f"worker{i + 1}", concurrency=1)
            deadline = started + 600
            while StripeEvent.objects.filter(status="RECEIVED").exists():
                if time.perf_counter() > deadline:
                    raise CommandError("Processing did not finish in 10 minutes.")
                time.sleep(0.2)
            processed_s = time.perf_counter() - started
            transfers = SellerBalanceEntry.objects.filter(reason="TRANSFER").count()
        finally:
            stack.stop()
        floor = Run(
            "floor (both runs)",
            floor1.seconds + floor2.seconds,
            floor1.latencies + floor2.latencies,
            floor1.errors + floor2.errors,
        )
        self.stdout.write(
            f"\n{n} events, {clients} clients, gunicorn {opts['web_workers']} sync workers, "
            f"{opts['workers']} Celery workers; {connection.settings_dict['NAME']}"
        )
        for run in (floor1, intake, floor2):
            self.stdout.write(run.line(floor))
        self.stdout.write(
            f"{'processing':<28} {stored:>6} ev  {stored / processed_s:8.1f} events/s "
            f"({processed_s:.1f} s; {transfers} seller transfers posted so far)"
        )
        ok = intake.errors == 0 and intake.rps >= floor.rps / 2
        self.stdout.write(
            (self.style.SUCCESS if ok else self.style.ERROR)(
                f"intake/floor = {intake.rps / floor.rps:.2f} (target >= 0.50), "
                f"intake p50 {statistics.median(intake.latencies) * 1000:.1f} ms"
            )
        )

    @staticmethod
    def _paid_checkout_body(product: Product, n: int) -> bytes:
        order = order_create_from_cart(
            cart={str(product.pk): 1},
            buyer=None,
            email=f"bench{n}@example.com",
            ship_to_country="US",
        )
        checkout_start(order=order, success_url=settings.SITE_URL, cancel_url=settings.SITE_URL)
        order.refresh_from_db()
        event = simulator_session_pay_undelivered(session_id=order.stripe_checkout_session_id)
        return json.dumps(event, separators=(",", ":")).encode()
