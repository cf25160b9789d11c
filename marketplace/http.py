import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """Where to send the user back to: the posted `next` or the Referer, only if it is on
    this site (never an open redirect); otherwise `fallback`."""
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def client_ip(request: HttpRequest) -> str:
    """The client's IP address, read one way everywhere (every rate limit, allauth's,
    view dedup, analytics). Behind `TRUSTED_PROXY_COUNT` proxies (the load balancer
    appends the address it saw to X-Forwarded-For), the client is the address that
    many entries from the right of that header; anything further left was written by
    the client and is not trusted. With no proxies (0, the default) REMOTE_ADDR is
    the client. A header too short or not an address falls back to REMOTE_ADDR.
    """
    # No address at all (a Unix socket with no proxy header): one shared bucket.
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    header = request.META.get(settings.TRUSTED_PROXY_HEADER, "")
    hops = [part.strip() for part in header.split(",") if part.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
