"""The floor page of the load benchmarks: what a bare Django page costs on this machine.

Same middleware as every page, a ~60 KB template with a 24-item loop, no database, no
cache, no context processors. Routed only when BENCH_FLOOR_PAGE is on (config/urls.py),
so production never serves it. docs/PERFORMANCE.md compares every page with it.
"""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

ITEMS = [
    {"n": n, "title": f"Benchmark item {n}", "price": f"${n * 3 + 0.99:.2f}", "tags": ["a", "b"]}
    for n in range(1, 25)
]


def floor_page(request: HttpRequest) -> HttpResponse:
    """Anonymous, GET; only when BENCH_FLOOR_PAGE is set (never in production)."""
    return HttpResponse(render_to_string("bench/floor.html", {"items": ITEMS}))
