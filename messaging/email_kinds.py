"""Every kind of email the site sends, in one place: template → (label, optional?).

An *optional* email is one a user may turn off on their notification preferences page
(`messaging:preferences`); their in-app notification is still created. Everything else
is transactional (receipts, sales, shipping, refunds, disputes, payouts, security,
moderation decisions) and always goes. A template missing from this table is treated
as transactional; `tests/messaging/test_email_parity.py` fails until it is added.
"""

from typing import NamedTuple


class EmailKind(NamedTuple):
    label: str
    optional: bool


EMAIL_KINDS: dict[str, EmailKind] = {
    # Orders and shipping
    "orders/emails/receipt": EmailKind("Your order receipt", False),
    "orders/emails/new_sale": EmailKind("A new sale in your shop", False),
    "orders/emails/item_shipped": EmailKind("Your printed item has shipped", False),
    "orders/emails/item_delivered": EmailKind("Your printed item was delivered", False),
    "orders/emails/payment_refunded": EmailKind("An order we could not honour was refunded", False),
    # Refunds
    "refunds/emails/requested_seller": EmailKind("A buyer asked for a refund", False),
    "refunds/emails/approved_buyer": EmailKind("Your refund was approved", False),
    "refunds/emails/declined_buyer": EmailKind("Your refund was declined", False),
    "refunds/emails/refunded_buyer": EmailKind("Your refund was paid", False),
    "refunds/emails/refunded_seller": EmailKind("A refund was paid from your sale", False),
    # Payments and disputes
    "payments/emails/dispute_opened": EmailKind("A buyer disputed a payment", False),
    "payments/emails/dispute_closed": EmailKind("A payment dispute closed", False),
    "payments/emails/account_disconnected": EmailKind("Your payout account disconnected", False),
    "payments/emails/account_disconnected_staff": EmailKind(
        "Staff: a seller's payout account disconnected", False
    ),
    # Accounts (allauth): security, always sent
    "account/email/email_confirmation": EmailKind("Confirm your email address", False),
    "account/email/email_confirmation_signup": EmailKind("Confirm your email address", False),
    "account/email/password_reset_key": EmailKind("Reset your password", False),
    "account/email/unknown_account": EmailKind("Password reset for an unknown address", False),
    "account/email/account_already_exists": EmailKind("Sign-up with an existing address", False),
    # Moderation: statements of reasons, always sent
    "moderation/emails/decision": EmailKind("Decisions by our moderators about you", False),
    "moderation/emails/ip_notice_received": EmailKind(
        "Receipts for intellectual-property notices you sent", False
    ),
    "moderation/emails/ip_counter_notice": EmailKind(
        "Counter-notices to your intellectual-property notices", False
    ),
    # Accounts
    "marketplace/emails/welcome": EmailKind("Welcome to the marketplace", False),
    "accounts/emails/data_export_ready": EmailKind("Your data export is ready", False),
    # Optional: the user chooses
    "catalog/emails/review_request": EmailKind("Requests to review what you bought", True),
    "messaging/emails/question_new": EmailKind("New questions about your listings", True),
    "messaging/emails/question_answered": EmailKind("Answers to your questions", True),
    "messaging/emails/message_new": EmailKind("New messages from buyers and sellers", True),
}


def email_kind_is_optional(template: str) -> bool:
    """True when users may turn this email off (unknown templates: transactional)."""
    kind = EMAIL_KINDS.get(template)
    return bool(kind and kind.optional)


def optional_email_kinds() -> list[tuple[str, str]]:
    """(template, label) of every email a user may turn off, in table order."""
    return [(template, kind.label) for template, kind in EMAIL_KINDS.items() if kind.optional]
