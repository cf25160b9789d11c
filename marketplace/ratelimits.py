"""One way to put a rate limit on a view (docs/SECURITY.md has the table of limits).

    @rate_limit(group="cart-add", rates=("CART_ADD_RATE", "CART_ADD_RATE_IP"))

counts each request of the limited methods against two keys: the person (the signed-in
user, else the client IP — a guest's session is free to replace, so it is no identity
for a limit) and the client IP (`marketplace.http.client_ip`, behind the trusted
proxies). Rates are read from settings at request time ("30/m", "10/h", "5/15m"), so
ops can change them by environment. Over the limit: django-ratelimit's `Ratelimited`,
which RatelimitMiddleware turns into the 429 page (marketplace.views.ratelimited) with a
`Retry-After` of the seconds left in the window.

Counters live in the cache. When it is unavailable, limits built here fail OPEN
(RATELIMIT_FAIL_OPEN, marketplace/cache.py): a Redis outage must not lock buyers out of
their carts. `fail_closed=True` refuses instead while the cache is out (the admin login).
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from marketplace.cache import cache_available
from marketplace.http import client_ip


def person_key(group: str, request: HttpRequest) -> str:
    """The signed-in user, else the client IP. Never creates a session."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def ip_key(group: str, request: HttpRequest) -> str:
    return f"ip:{client_ip(request)}"


def limit_hit(
    request: HttpRequest,
    *,
    group: str,
    rate: str,
    key: Callable[[str, HttpRequest], str],
    increment: bool = True,
    fail_closed: bool = False,
) -> bool:
    """Count this request (if `increment`) and say whether it is over `rate`. Leaves
    `request.retry_after` (seconds) when it is."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    if fail_closed and not cache_available():
        request.retry_after = getattr(settings, "CACHE_BREAKER_SECONDS", 30)
        return True
    if usage is None:
        return False
    # Counting: over once the count passes the limit. Checking only (failures counted
    # afterwards): over once the limit is reached, so the (limit+1)th try is refused.
    over = usage["should_limit"] if increment else usage["count"] >= usage["limit"]
    if over:
        request.retry_after = max(1, int(usage["time_left"]))
    return over


def rate_limit(
    *,
    group: str,
    rates: Iterable[str],
    methods: Iterable[str] = ("POST",),
    keys: Iterable[Callable[[str, HttpRequest], str]] = (person_key, ip_key),
    fail_closed: bool = False,
):
    """Decorator for a view function or a View's method (use method_decorator).
    `rates` are setting names, paired with `keys` in order (person, then IP)."""
    methods = {m.upper() for m in methods}
    pairs = list(zip(rates, keys, strict=True))

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                for setting_name, key in pairs:
                    if limit_hit(
                        request,
                        group=f"{group}:{setting_name}",
                        rate=getattr(settings, setting_name),
                        key=key,
                        fail_closed=fail_closed,
                    ):
                        raise Ratelimited(f"{group} over {setting_name}")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def admin_login_limited(login_view):
    """Wrap AdminSite.login: per client IP (ADMIN_LOGIN_RATE_IP) and per username tried
    (ADMIN_LOGIN_RATE), only failed POSTs count, and once either limit is reached every
    further attempt, right password included, is a 429 until the window ends. Fails
    closed: while the cache is out, nobody signs in to the admin (see SECURITY.md)."""

    @wraps(login_view)
    def view(request, extra_context=None):
        if request.method != "POST":
            return login_view(request, extra_context)
        username = (request.POST.get("username") or "").strip().lower()[:254]

        def username_key(group: str, req: HttpRequest) -> str:
            return f"username:{username}"

        checks = (
            ("admin-login:ip", settings.ADMIN_LOGIN_RATE_IP, ip_key),
            ("admin-login:username", settings.ADMIN_LOGIN_RATE, username_key),
        )
        for group, rate, key in checks:
            if limit_hit(
                request, group=group, rate=rate, key=key, increment=False, fail_closed=True
            ):
                raise Ratelimited(f"{group} reached")
        response = login_view(request, extra_context)
        signed_in = request.user.is_authenticated and request.user.is_staff
        if not signed_in:
            for group, rate, key in checks:
                limit_hit(request, group=group, rate=rate, key=key, increment=True)
        return response

    return view


class RetryAfterMiddleware:
    """Every 429 says when to come back: allauth's own 429 page (its login/signup
    limits) sets no Retry-After, so one minute is added where none is set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 429 and not response.has_header("Retry-After"):
            response["Retry-After"] = "60"
        return response
