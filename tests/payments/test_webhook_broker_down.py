"""Webhook intake with the broker down: the event is stored and answered at once, and
processed once the broker is back (the periodic requeue of stale RECEIVED rows)."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from payments.models import StripeEvent
from payments.tasks import stripe_events_requeue_stale_task
from tests.payments.test_webhooks import _event, _seller_account

pytestmark = pytest.mark.django_db


def _dead_broker() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_intake_stores_and_answers_with_the_broker_down(
    deliver, settings, django_capture_on_commit_callbacks
):
    # given a seller, and tasks that must go through a broker nobody answers on
    _seller_account()
    event = _event("event_account_updated")
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = _dead_broker()
    try:
        # when Stripe delivers (the publish after commit fails)
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(event, endpoint="connect")
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = previous
    # then the delivery is acknowledged and the event waits, stored
    assert response.status_code == 200
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("RECEIVED", 0)
    # when the broker is back and the periodic requeue runs past the stale age
    StripeEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(hours=1))
    assert stripe_events_requeue_stale_task() == 1
    # then it is processed, once
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PROCESSED", 1)
