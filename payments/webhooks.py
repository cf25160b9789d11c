"""Stripe webhook endpoints: verify, store raw, answer 200, process later (STYLE.md §9).

Two endpoints because Stripe signs platform events and Connect events (from connected
accounts) with different secrets. Real Stripe and the local simulator both post here.
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.gateway import InvalidSignature, event_verify
from payments.models import StripeEvent
from payments.services import stripe_event_receive

logger = logging.getLogger(__name__)


def _verify(payload: bytes, signature: str, secrets: list[str]) -> dict:
    """The event, checked against the current secret, then each previous one (rotation);
    InvalidSignature when none verifies it."""
    error: InvalidSignature | None = None
    for secret in secrets:
        try:
            return event_verify(payload=payload, signature=signature, secret=secret)
        except InvalidSignature as exc:
            error = error or exc
    raise error or InvalidSignature("No webhook secret is configured.")


def _receive(
    request: HttpRequest, *, endpoint: str, secret: str, fallbacks: Sequence[str] = ()
) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = _verify(request.body, signature, [s for s in (secret, *fallbacks) if s])
    except InvalidSignature as exc:
        logger.warning(
            "stripe webhook (%s) rejected from %s: %s",
            endpoint,
            request.META.get("REMOTE_ADDR", ""),
            exc,
        )
        return HttpResponseBadRequest("Invalid Stripe signature or payload.")
    _row, created = stripe_event_receive(event=event, endpoint=endpoint)
    return JsonResponse({"received": True, "duplicate": not created})


# Outside ATOMIC_REQUESTS (should it be switched on): the row must commit before the
# task that processes it is queued, and a processing error must never undo the intake.
@transaction.non_atomic_requests
@csrf_exempt
@require_POST
def stripe_webhook_platform(request: HttpRequest) -> HttpResponse:
    """Stripe only (signature checked with STRIPE_WEBHOOK_SECRET). POST."""
    return _receive(
        request,
        endpoint=StripeEvent.Endpoint.PLATFORM,
        secret=settings.STRIPE_WEBHOOK_SECRET,
        fallbacks=settings.STRIPE_WEBHOOK_SECRET_FALLBACKS,
    )


@transaction.non_atomic_requests
@csrf_exempt
@require_POST
def stripe_webhook_connect(request: HttpRequest) -> HttpResponse:
    """Stripe only (signature checked with STRIPE_CONNECT_WEBHOOK_SECRET). POST."""
    return _receive(
        request,
        endpoint=StripeEvent.Endpoint.CONNECT,
        secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
        fallbacks=settings.STRIPE_CONNECT_WEBHOOK_SECRET_FALLBACKS,
    )
