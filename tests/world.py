"""One small marketplace with every kind of object a URL can point at, and the people
who may or may not touch each: used by the URL × role matrix and the hostile-input
suite (tests/test_access_matrix.py, tests/test_hostile_input.py).

Built through the real services where money is involved (an order paid through the
simulator and the webhook), so ledger rows, transfers and tokens exist as in life.
"""

import copy
from datetime import timedelta
from types import SimpleNamespace

from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import DataExport
from catalog.reviews import review_reply_upsert, review_upsert
from downloads.services import download_link
from marketplace.audit import staff_action
from messaging.models import Conversation, EmailLog
from messaging.notifications import notify
from messaging.posts import answer_post, conversation_get_or_start, message_send, question_ask
from moderation.ip import IP_TAKEDOWN_ACTION
from moderation.services import review_report
from moderation.suspensions import user_suspend
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.models import PaymentRefund, StripeEvent
from payments.simulator import simulator_session_pay
from refunds.models import RefundRequest
from refunds.services import refund_request_create
from tests.catalog.factories import ProductFactory, ProductImageFactory, make_ready
from tests.factories import SellerProfileFactory, UserFactory, activate_totp
from tests.orders.factories import SIM_SHIPPING

ROLES = (
    "anonymous",
    "guest",
    "buyer",
    "other_buyer",
    "seller",
    "other_seller",
    "staff",
    "suspended",
)


def _order(products, *, buyer=None, email="buyer@example.com", pay=True, capture=None):
    order = order_create_from_cart(
        cart={str(p.pk): 1 for p in products}, buyer=buyer, email=email, ship_to_country="US"
    )
    checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
    order.refresh_from_db()
    if pay:
        with capture(execute=True):
            simulator_session_pay(
                session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING
            )
        order.refresh_from_db()
        assert order.status == "PAID", order.status
    return order


def _png():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, format="PNG")
    return SimpleUploadedFile("photo.png", data.getvalue(), content_type="image/png")


def build_world(capture) -> SimpleNamespace:
    """`capture` is pytest-django's `django_capture_on_commit_callbacks` (the webhook's
    processing runs after commit)."""
    seller = SellerProfileFactory(display_name="Maple Prints").user
    other_seller = SellerProfileFactory(display_name="Orbit Files").user
    buyer = UserFactory(name="Bea Buyer")
    other_buyer = UserFactory(name="Otto Other")
    # Staff have two-factor on (staff pages and the admin require it).
    staff = activate_totp(UserFactory(name="Sam Staff", is_staff=True))
    # A seller with a shop and a draft of their own, suspended by moderation (through
    # the service, so the suspension, its audit row and statement exist): they may read
    # everything public and their own workspace, and post nothing.
    suspended = SellerProfileFactory(display_name="Closed Shop").user
    suspension = user_suspend(user=suspended, staff=staff, reason="Test suspension.")
    suspended.refresh_from_db()
    suspended_draft = ProductFactory(seller=suspended, title="Suspended Draft", complete=True)

    printed = ProductFactory(
        seller=seller,
        title="Painted Dragon",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        physical=True,
        stock_quantity=5,
        price_cents=3000,
        shipping_cents=500,
    )
    file = ProductFactory(
        seller=seller,
        title="Spiral Vase",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        price_cents=1200,
    )
    draft = ProductFactory(seller=seller, title="Secret Draft", complete=True)
    extra_image = ProductImageFactory(product=draft)
    make_ready(other_seller)

    order = _order([printed, file], buyer=buyer, capture=capture)
    guest_order = _order([printed, file], email="guest@example.com", capture=capture)
    unpaid = _order([printed], buyer=buyer, pay=False, capture=capture)
    line = order.items.get(product=printed)
    file_line = order.items.get(product=file)
    refund = refund_request_create(
        item=line, requested_by=buyer, reason=RefundRequest.Reason.DAMAGED, note="Cracked."
    )

    guest_refund = refund_request_create(
        item=guest_order.items.get(product=printed),
        requested_by=None,
        reason=RefundRequest.Reason.NOT_AS_DESCRIBED,
        note="Wrong colour.",
    )
    # A partial refund someone made in Stripe's dashboard: staff say which lines it was for.
    outside_refund = PaymentRefund.objects.create(
        order=order,
        reason=PaymentRefund.Reason.OUTSIDE,
        amount_cents=700,
        currency=order.currency,
        payment_intent_id=order.stripe_payment_intent_id,
        stripe_refund_id="re_outside_1",
        idempotency_key="test-outside-1",
        status=PaymentRefund.Status.SUCCEEDED,
        needs_allocation=True,
    )
    review = review_upsert(product=file, author=buyer, rating=4, body="Prints well, nice vase.")
    review_reply_upsert(review=review, seller=seller, body="Thank you!")
    decision = staff_action(
        actor=staff,
        action="review.hide",
        target=review,
        reason="Test decision.",
        subject_user=buyer,
        statement="We hid your review while we look at it.",
        appealable=True,
    )
    # Product Q&A: the buyer asks on the seller's listing, the seller answers.
    question = question_ask(product=file, author=buyer, body="Does it print without supports?")
    answer = answer_post(question=question, author=seller, body="Yes, no supports needed.")
    # An ORDER thread between buyer and seller: one message, one with a picture.
    conversation, _ = conversation_get_or_start(
        subject=Conversation.Subject.ORDER, seller=seller, buyer=buyer, order_id=order.pk
    )
    message_send(conversation=conversation, sender=buyer, side="buyer", body="When will it ship?")
    picture_message = message_send(
        conversation=conversation,
        sender=seller,
        side="seller",
        body="",
        attachment=_png(),
    )
    notification = notify(user=buyer, kind="test", title="Something happened", url="/")
    report = review_report(review=review, reporter=other_buyer, reason="SPAM")
    stripe_event = StripeEvent.objects.create(
        stripe_event_id="evt_world_failed",
        type="checkout.session.completed",
        endpoint=StripeEvent.Endpoint.PLATFORM,
        payload={},
        status=StripeEvent.Status.FAILED,
        last_error="Test failure.",
    )
    failed_email = EmailLog.objects.create(
        key="world-failed-email",
        to=buyer.email,
        subject="Your order",
        template="test",
        status=EmailLog.Status.FAILED,
        last_error="Test failure.",
    )
    data_export = DataExport.objects.create(
        user=buyer,
        status=DataExport.Status.READY,
        file_name="exports/world.zip",
        ready_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    ip_takedown = staff_action(
        actor=staff,
        action=IP_TAKEDOWN_ACTION,
        target=draft,
        reason="Test IP takedown.",
        subject_user=seller,
        statement="We took your listing down after a notice of infringement.",
        appealable=True,
    )
    asset = file.assets.get()
    return SimpleNamespace(
        seller=seller,
        other_seller=other_seller,
        buyer=buyer,
        other_buyer=other_buyer,
        staff=staff,
        suspended=suspended,
        suspended_draft=suspended_draft,
        printed=printed,
        file=file,
        draft=draft,
        image=draft.cover_image,
        extra_image=extra_image,
        draft_asset=draft.assets.get(),
        asset=asset,
        signed_link=download_link(asset),
        order=order,
        line=line,
        file_line=file_line,
        guest_order=guest_order,
        unpaid=unpaid,
        refund=refund,
        guest_refund=guest_refund,
        outside_refund=outside_refund,
        review=review,
        decision=decision,
        shipping_profile=printed.shipping_profile,
        suspension=suspension,
        question=question,
        answer=answer,
        conversation=conversation,
        picture_message=picture_message,
        notification=notification,
        report=report,
        stripe_event=stripe_event,
        data_export=data_export,
        failed_email=failed_email,
        ip_takedown=ip_takedown,
    )


def request_in_savepoint(client: Client, method: str, url: str, **kwargs):
    """One request whose database writes are rolled back afterwards, and the client's
    cookies and the cache with them (a logout would otherwise sign the role out): the next request
    sees the same world."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        response = getattr(client, method)(url, **kwargs)
        transaction.set_rollback(True)
    client.cookies = cookies
    # Rate-limit counters live in the cache, which the rollback does not reach: without
    # this, the sixth role to POST a limited form would see a 429 meant for a flood.
    cache.clear()
    return response


def log_in_staff(client: Client, user) -> Client:
    """The one place staff sign in for these suites. When staff must pass two-factor
    before a staff page opens, complete it here (e.g. mark the session as MFA-verified)."""
    client.force_login(user)
    return client


def client_for(role: str, world: SimpleNamespace) -> Client:
    """A test client acting as `role` (see ROLES). "guest" is an anonymous client; the
    URL it is given carries the guest order's token."""
    client = Client()
    if role in ("anonymous", "guest"):
        return client
    user = getattr(world, role)
    if role == "staff":
        return log_in_staff(client, user)
    client.force_login(user)
    return client
