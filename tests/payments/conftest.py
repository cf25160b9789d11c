import json
import time

import pytest
import stripe
from django.conf import settings
from django.urls import reverse


@pytest.fixture(autouse=True)
def _payments_urls(settings):
    settings.ROOT_URLCONF = "tests.payments.urls"


def signed(event: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """Body and Stripe-Signature header, made with stripe-python's own signing helper."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time())
    )
    return payload.encode(), header


@pytest.fixture
def deliver(client):
    """POST a Stripe event to one of our endpoints, signed with that endpoint's secret
    (or `secret=`), as Stripe does."""

    def _deliver(event: dict, *, endpoint: str = "platform", secret: str | None = None, **kw):
        if secret is None:
            secret = (
                settings.STRIPE_WEBHOOK_SECRET
                if endpoint == "platform"
                else settings.STRIPE_CONNECT_WEBHOOK_SECRET
            )
        body, header = signed(event, secret, **kw)
        return client.post(
            reverse(f"payments:webhook-{endpoint}"),
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    return _deliver
