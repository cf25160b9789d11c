from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payments import webhooks
from payments.models import SellerStripeAccount, StripeEvent
from payments.simulator import SimulatedAccount
from payments.tasks import (
    seller_stripe_accounts_sync_task,
    simulator_sessions_expire_due_task,
    stripe_events_requeue_stale_task,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _row(event_id: str, status: str, *, age_minutes: int) -> StripeEvent:
    row = StripeEvent.objects.create(
        stripe_event_id=event_id,
        type="customer.created",
        endpoint="platform",
        payload={"id": event_id, "object": "event", "type": "customer.created", "data": {}},
        status=status,
    )
    StripeEvent.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=age_minutes)
    )
    return row


def test_the_periodic_requeue_picks_up_only_lost_tasks():
    # given a lost task (old RECEIVED), a fresh one (maybe still queued) and a failure
    lost = _row("evt_lost", "RECEIVED", age_minutes=30)
    fresh = _row("evt_fresh", "RECEIVED", age_minutes=1)
    failed = _row("evt_failed", "FAILED", age_minutes=30)
    # when the periodic job runs (tasks run inline in tests)
    assert stripe_events_requeue_stale_task.delay().get() == 1
    # then only the lost one was processed; a failure waits for staff
    statuses = dict(StripeEvent.objects.values_list("stripe_event_id", "status"))
    assert statuses == {
        lost.stripe_event_id: "IGNORED",
        fresh.stripe_event_id: "RECEIVED",
        failed.stripe_event_id: "FAILED",
    }


def test_the_periodic_account_sync_reports_a_summary():
    user = UserFactory()
    simulated = SimulatedAccount.objects.create(
        idempotency_key="k",
        seller_id=user.pk,
        email=user.email,
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
    )
    SellerStripeAccount.objects.create(seller=user, stripe_account_id=simulated.id)
    assert seller_stripe_accounts_sync_task.delay().get() == {
        "total": 1,
        "ready": 1,
        "not_ready": 0,
        "changed_to_ready": 1,
        "errors": 0,
    }


def test_the_simulator_expiry_job_does_nothing_with_real_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51Abc"
    assert simulator_sessions_expire_due_task.delay().get() == 0


def test_the_webhook_views_stay_out_of_atomic_requests():
    for view in (webhooks.stripe_webhook_platform, webhooks.stripe_webhook_connect):
        assert "default" in view._non_atomic_requests
        assert view.csrf_exempt is True


def test_staff_see_events_and_can_reprocess_a_failed_one(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    row = _row("evt_broken", "FAILED", age_minutes=5)
    changelist = reverse("admin:payments_stripeevent_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert "evt_broken" in page.content.decode()
    # the admin action leads to the guarded confirmation page (reason required, audited)
    response = client.post(changelist, {"action": "reprocess", "_selected_action": [row.pk]})
    confirm = reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": row.pk})
    assert response.status_code == 302 and response["Location"] == confirm
    response = client.post(confirm, {"reason": "handler fixed"}, follow=True)
    assert "processed" in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("IGNORED", 1)
    for name in ("sellerstripeaccount", "sellertransfer", "sellerbalanceentry"):
        assert client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
