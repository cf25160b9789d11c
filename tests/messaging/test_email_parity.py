"""Every email a registered user can receive also creates their in-app notification.

The list of emails is found, not typed: every `templates/**/emails/*_subject.txt` (and
allauth's `account/email/*` that this site sends). Each must be in `DRIVERS` (how to
make the real code send it, and who must be notified) or in `EXEMPT` (why not). A new
email template that is in neither fails `test_every_email_template_is_in_the_parity_table`
with its name: add its driver (or, with a reason, its exemption) here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from messaging.email_kinds import EMAIL_KINDS
from messaging.models import EmailLog, Notification
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# allauth's own templates (no override in templates/) that this site's settings send:
# ACCOUNT_PREVENT_ENUMERATION answers a reset for an unknown address and a sign-up with
# a taken one by email.
ALLAUTH_SENT = {"account/email/unknown_account", "account/email/account_already_exists"}

# Emails with no notification, and why.
EXEMPT = {
    "account/email/email_confirmation_signup": (
        "sent at sign-up to prove the address: the person cannot sign in before "
        "confirming it, so a notification would be unreadable"
    ),
    "account/email/email_confirmation": (
        "confirms an address being added or re-sent to an unverified account: until it "
        "is confirmed the address is not proven to be the account's, and the person acts "
        "on the email itself"
    ),
    "account/email/unknown_account": (
        "answers a password reset for an address with no account: nobody to notify"
    ),
}


def email_templates() -> set[str]:
    """Every email the code can send, from the template files."""
    found = set()
    for path in TEMPLATES.glob("**/*_subject.txt"):
        name = path.relative_to(TEMPLATES).as_posix().removesuffix("_subject.txt")
        if "/emails/" in f"/{name}" or name.startswith("account/email/"):
            found.add(name)
    return found | ALLAUTH_SENT


@dataclass
class World:
    """A paid order by a registered buyer: one printed item, one file, two sellers."""

    buyer: object
    printed: object
    file: object
    order: object
    client: object

    def item(self, product):
        return self.order.items.get(product=product)


def _refund(world: World, step: str):
    from refunds.emails import refund_emails_send
    from refunds.models import RefundRequest

    item = world.item(world.file)
    request, _ = RefundRequest.objects.get_or_create(
        order_item=item,
        defaults={
            "initiated_by": "BUYER",
            "requested_by": world.buyer,
            "reason": "OTHER",
            "currency": item.currency,
            "requested_amount_cents": item.subtotal_cents,
        },
    )
    refund_emails_send(request_id=request.pk, step=step)


def _dispute(world: World, step: str):
    from payments.disputes import dispute_emails_send
    from payments.models import Dispute

    dispute, _ = Dispute.objects.get_or_create(
        stripe_dispute_id="dp_parity",
        defaults={
            "order": world.order,
            "charge_id": "ch_1",
            "amount_cents": world.order.total_cents,
            "currency": world.order.currency,
            "status": "needs_response",
        },
    )
    dispute_emails_send(dispute_pk=dispute.pk, step=step)


def _disconnected(world: World) -> None:
    from payments.services import seller_disconnected_emails_send

    seller_disconnected_emails_send(account_pk=world.printed.seller.stripe_account.pk)


def _paid_emails(world: World) -> None:
    from orders.emails import order_send_paid_emails

    order_send_paid_emails(order_id=world.order.pk)


def _fulfilment(world: World, step: str) -> None:
    from orders.services import order_item_send_fulfillment_email

    order_item_send_fulfillment_email(item_id=world.item(world.printed).pk, step=step)


def _payment_refunded(world: World) -> None:
    from orders.emails import order_send_payment_refunded_email

    order_send_payment_refunded_email(order_id=world.order.pk, amount_cents=100, currency="usd")


def _review_request(world: World) -> None:
    from orders.reviews import order_review_request_send

    order_review_request_send(order_id=world.order.pk)


def _question(world: World):
    from messaging.posts import question_ask

    return question_ask(product=world.file, author=world.buyer, body="Does it print flat?")


def _answer(world: World) -> None:
    from messaging.posts import answer_post

    answer_post(question=_question(world), author=world.file.seller, body="Yes, no supports.")


def _message(world: World) -> None:
    from messaging.models import Conversation
    from messaging.posts import conversation_get_or_start, message_send

    conversation, _ = conversation_get_or_start(
        subject=Conversation.Subject.ORDER,
        seller=world.file.seller,
        buyer=world.buyer,
        order_id=world.order.pk,
    )
    message_send(conversation=conversation, sender=world.buyer, side="buyer", body="Hello")


def _decision(world: World):
    from marketplace import audit

    subject = UserFactory()
    audit.staff_action(
        actor=world.staff,  # type: ignore[attr-defined]
        action="question.remove",
        target=subject,
        reason="Spam",
        subject_user=subject,
        appealable=True,
    )
    return subject


def _export(world: World) -> None:
    from accounts.export import data_export_build, data_export_request

    data_export_build(export_id=data_export_request(user=world.buyer).pk)


def _welcome(world: World) -> None:
    from accounts.welcome import welcome_email_on_confirm

    welcome_email_on_confirm(user=world.buyer, email=world.buyer.email)


def _ip_notice(world: World):
    """A registered rights holder (the buyer) reports the file listing."""
    from moderation.ip import ip_notice_submit

    return ip_notice_submit(
        listing_url=world.file.get_absolute_url(),
        claimant_name="Ada Rights",
        claimant_email=world.buyer.email,
        work_description="My original planter design",
        signature="Ada Rights",
        sworn_statement=True,
        reporter=world.buyer,
    )


def _ip_counter(world: World) -> None:
    from moderation.ip import counter_notice_submit, ip_takedown

    notice = _ip_notice(world)
    entry = ip_takedown(report=notice.report, actor=world.staff, reason="Copied design")  # type: ignore[attr-defined]
    counter_notice_submit(
        entry=entry,
        seller=world.file.seller,
        explanation="I designed it myself in 2024.",
        full_name="Sam Seller",
        address="1 Main St",
        signature="Sam Seller",
        good_faith_statement=True,
    )


def _then(action: Callable[[World], None], who: Callable[[World], object]):
    def drive(world: World):
        action(world)
        return who(world)

    return drive


def _buyer(w):
    return w.buyer


def _printer(w):
    return w.printed.seller


# template → drive(world) that makes the real code send it; returns who must be notified.
DRIVERS: dict[str, Callable[[World], object]] = {
    "orders/emails/receipt": _then(_paid_emails, _buyer),
    "orders/emails/new_sale": _then(_paid_emails, _printer),
    "orders/emails/item_shipped": _then(lambda w: _fulfilment(w, "shipped"), _buyer),
    "orders/emails/item_delivered": _then(lambda w: _fulfilment(w, "delivered"), _buyer),
    "orders/emails/payment_refunded": _then(_payment_refunded, _buyer),
    "catalog/emails/review_request": _then(_review_request, _buyer),
    "refunds/emails/requested_seller": _then(
        lambda w: _refund(w, "requested"), lambda w: w.file.seller
    ),
    "refunds/emails/approved_buyer": _then(lambda w: _refund(w, "approved"), _buyer),
    "refunds/emails/declined_buyer": _then(lambda w: _refund(w, "declined"), _buyer),
    "refunds/emails/refunded_buyer": _then(lambda w: _refund(w, "refunded"), _buyer),
    "refunds/emails/refunded_seller": _then(
        lambda w: _refund(w, "refunded"), lambda w: w.file.seller
    ),
    "payments/emails/dispute_opened": _then(lambda w: _dispute(w, "opened"), _printer),
    "payments/emails/dispute_closed": _then(lambda w: _dispute(w, "closed"), _printer),
    "payments/emails/account_disconnected": _then(_disconnected, _printer),
    "payments/emails/account_disconnected_staff": _then(
        _disconnected,
        lambda w: w.staff,  # type: ignore[attr-defined]
    ),
    # allauth: security notices about an existing account
    "account/email/password_reset_key": _then(
        lambda w: w.client.post(reverse("account_reset_password"), {"email": w.buyer.email}),
        _buyer,
    ),
    "account/email/account_already_exists": _then(
        lambda w: w.client.post(
            reverse("account_signup"),
            {
                "email": w.buyer.email,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        ),
        _buyer,
    ),
    # Q&A and conversations (built elsewhere; their templates arrive with them)
    "messaging/emails/question_new": _then(_question, lambda w: w.file.seller),
    "messaging/emails/question_answered": _then(_answer, _buyer),
    "messaging/emails/message_new": _then(_message, lambda w: w.file.seller),
    "moderation/emails/decision": _decision,
    "accounts/emails/data_export_ready": _then(_export, _buyer),
    "marketplace/emails/welcome": _then(_welcome, _buyer),
    "moderation/emails/ip_notice_received": _then(_ip_notice, _buyer),
    "moderation/emails/ip_counter_notice": _then(_ip_counter, _buyer),
}


def test_every_email_template_is_in_the_parity_table():
    missing = sorted(email_templates() - DRIVERS.keys() - EXEMPT.keys())
    assert not missing, (
        f"New email template(s) {missing}: add each to DRIVERS in {__file__} (the real code "
        "path that sends it and who must get the in-app notification) or to EXEMPT with "
        "the reason it has no notification."
    )
    assert not DRIVERS.keys() & EXEMPT.keys()


def test_every_email_template_has_a_kind_and_a_label():
    missing = sorted(email_templates() - EMAIL_KINDS.keys())
    assert not missing, (
        f"Email template(s) {missing} are not in messaging.email_kinds.EMAIL_KINDS: add "
        "them with their label and whether users may turn them off."
    )


def test_every_email_to_a_registered_user_creates_their_notification(
    client, django_capture_on_commit_callbacks
):
    # given: a paid order by a registered buyer, with a printed item and a file
    staff = UserFactory(is_staff=True)
    buyer = UserFactory()
    printed = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, physical=True)
    file = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(printed, file, buyer=buyer, email=buyer.email)
    world = World(buyer=buyer, printed=printed, file=file, order=order, client=client)
    world.staff = staff  # type: ignore[attr-defined]
    present = email_templates()
    problems = []
    for template, drive in sorted(DRIVERS.items()):
        if template not in present:
            continue  # arrives with another branch; the table is ready for it
        # when: the real code sends it
        with django_capture_on_commit_callbacks(execute=True):
            who = drive(world)
        # then: the email was recorded for that user, and so was their notification
        logs = EmailLog.objects.filter(template=template, to__iexact=who.email)
        if not logs.exists():
            problems.append(f"{template}: no email to {who.email}")
            continue
        if not logs.filter(status="SENT").exists():
            problems.append(f"{template}: not sent ({logs.first().last_error})")
        if not Notification.objects.filter(user=who, kind=template).exists():
            problems.append(f"{template}: email without a notification for {who.email}")
    assert not problems, "\n".join(problems)


def test_exempt_account_emails_are_sent_without_a_notification(
    client, django_capture_on_commit_callbacks
):
    # a sign-up: the confirmation goes, and nobody is notified
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {
                "email": "new@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        )
        client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    signup = EmailLog.objects.get(template="account/email/email_confirmation_signup")
    unknown = EmailLog.objects.get(template="account/email/unknown_account")
    assert signup.status == "SENT" and signup.to == "new@example.com"
    # its one-time link is not kept once sent
    assert signup.text_body == "" and signup.html_body == ""
    assert unknown.status == "SENT" and unknown.to == "nobody@example.com"
    assert not Notification.objects.exists()
