"""Load against the floor: wrk against gunicorn for the discovery pages, each run right
after a run of the bare Django floor page (/bench/floor/), on both cache shapes.

By hand, on the benchmark data (`bench_discovery`, docs/PERFORMANCE.md), never in CI:

    DATABASE_URL=postgres://…/homecraft3d_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        python manage.py bench_load --duration 10 --connections 8

For each shape (local-memory cache, then Redis when REDIS_URL is set) it starts gunicorn
(2 sync workers, BENCH_FLOOR_PAGE on) and prints per page: requests/s, p50, p95, non-2xx
answers and the ratio to the floor run just before it. Needs `wrk` (Debian: apt-get
install wrk).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count

from catalog.models import Category, Product
from config.stackrun import Stack

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


class Command(BaseCommand):
    help = "wrk load on home, browse, category, search, autocomplete and product vs the floor."

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=10, help="seconds per run")
        parser.add_argument("--connections", type=int, default=8)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--shapes", default="locmem,redis")
        parser.add_argument("--port", type=int, default=0)

    def handle(self, *args, **opts):
        if not shutil.which("wrk"):
            raise CommandError("wrk is missing: apt-get install -y wrk")
        if connection.vendor != "postgresql":
            raise CommandError("Run on PostgreSQL (DATABASE_URL), on the benchmark data.")
        pages = self._pages()
        script = Path(tempfile.mkdtemp(prefix="hc3d-load-")) / "report.lua"
        script.write_text(WRK_REPORT)
        shapes = [s for s in opts["shapes"].split(",") if s]
        if "redis" in shapes and not settings.REDIS_URL:
            self.stderr.write("REDIS_URL is not set: skipping the Redis shape.")
            shapes.remove("redis")
        for shape in shapes:
            stack = Stack(
                database_url=settings.DATABASE_URL,
                redis_url=settings.REDIS_URL if shape == "redis" else "",
                port=opts["port"],
                web_workers=opts["web_workers"],
                env={"BENCH_FLOOR_PAGE": "true", "LOG_LEVEL": "WARNING"},
            )
            try:
                stack.start_web()
                # warm every page (template loading, first cache fill) before measuring
                for path in ["/bench/floor/", *pages.values()]:
                    self._wrk(stack, path, script, opts, duration=2)
                self.stdout.write(
                    f"\n== cache: {shape}; {opts['connections']} connections, "
                    f"{opts['duration']} s per run, gunicorn {opts['web_workers']} workers"
                )
                self.stdout.write(
                    f"{'page':<14} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} "
                    f"{'floor req/s':>12} {'ratio':>6}"
                )
                for name, path in pages.items():
                    floor = self._wrk(stack, "/bench/floor/", script, opts)
                    page = self._wrk(stack, path, script, opts)
                    self.stdout.write(
                        f"{name:<14} {page['rps']:8.1f} {page['p50']:8.1f} {page['p95']:8.1f} "
                        f"{page['errors']:7d} {floor['rps']:12.1f} "
                        f"{page['rps'] / floor['rps']:6.2f}"
                    )
            finally:
                stack.stop()

    def _pages(self) -> dict[str, str]:
        # The largest category, and a listing of it: "more like this" has the most to do.
        largest = (
            Product.objects.filter(status="PUBLISHED")
            .values("category")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        category = Category.objects.filter(pk=largest["category"]).first() if largest else None
        product = (
            Product.objects.filter(status="PUBLISHED", category=category).order_by("pk").first()
        )
        if category is None or product is None:
            raise CommandError("No catalog: run `manage.py bench_discovery` first.")
        return {
            "home": "/",
            "browse": "/browse/",
            "category": category.get_absolute_url(),
            "search": "/search/?q=planter",
            "autocomplete": "/search/suggest/?q=plan",
            "product": product.get_absolute_url(),
        }

    def _wrk(self, stack: Stack, path: str, script: Path, opts, duration: int | None = None):
        done = subprocess.run(  # noqa: S603 (fixed argv)
            [
                shutil.which("wrk") or "wrk",
                f"-t{opts['threads']}",
                f"-c{opts['connections']}",
                f"-d{duration or opts['duration']}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                stack.url + path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", done.stdout)
        if not match:
            raise CommandError(f"wrk said: {done.stdout}\n{done.stderr}")
        requests_, micros, p50, p95, errors = match.groups()
        return {
            "rps": int(requests_) / (int(micros) / 1e6),
            "p50": float(p50),
            "p95": float(p95),
            "errors": int(errors),
        }
