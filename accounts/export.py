"""Data export: "download my data" as a ZIP of JSON and CSV files.

- `data_export_request(user)`: queue an export (one in progress at a time).
- `data_export_build(export_id)`: the Celery task's service: collects only the
  requester's data from every app, writes the ZIP to private storage, emails a link.
- `data_export_link(export)` / `data_export_check_signature(...)`: the short-lived signed
  link (`DATA_EXPORT_LINK_SECONDS`); only the requester, signed in, can use it.
"""

import csv
import io
import json
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import DataExport
from catalog.models import Favorite, Product, Review, WishlistItem
from marketplace.exceptions import ApplicationError
from marketplace.models import LegalAcceptance, SellerProfile, User
from marketplace.storage import private_storage
from messaging.models import Answer, Conversation, Message, Question
from messaging.services import email_send
from orders.models import Order, OrderItem
from payments.models import SellerBalanceEntry

SIGNING_SALT = "accounts.data-export"
# The ZIP itself is kept this long, then deleted (`data_export_purge_expired`).
EXPORT_KEEP_DAYS = 7


def export_storage():
    return private_storage()


def data_export_request(*, user: User) -> DataExport:
    """Queue an export of `user`'s data. Refused while another is being prepared."""
    if DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).exists():
        raise ApplicationError("Your export is already being prepared. We will email you.")
    export = DataExport.objects.create(user=user)
    from accounts.tasks import data_export_build_task

    transaction.on_commit(lambda: data_export_build_task.delay(export.pk))
    return export


def data_export_link(export: DataExport) -> str:
    """A path that downloads `export` for its owner until `DATA_EXPORT_LINK_SECONDS` pass."""
    signature = signing.TimestampSigner(salt=SIGNING_SALT).sign(export.token)
    path = reverse("accounts:data-export-download", kwargs={"pk": export.pk})
    return f"{path}?s={signature}"


def data_export_check_signature(*, export: DataExport, signature: str) -> bool:
    try:
        token = signing.TimestampSigner(salt=SIGNING_SALT).unsign(
            signature, max_age=settings.DATA_EXPORT_LINK_SECONDS
        )
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return token == export.token


# ------------------------------------------------------------------------------
# What goes in the ZIP. Every query is filtered by the requester.
# ------------------------------------------------------------------------------
def _dt(value) -> str | None:
    return value.isoformat() if value else None


def _profile(user: User) -> dict:
    shop = SellerProfile.objects.filter(user=user).first()
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.name,
        "display_name": user.display_name,
        "has_avatar": bool(user.avatar),
        "date_joined": _dt(user.date_joined),
        "last_login": _dt(user.last_login),
        "ship_to_country": str(user.ship_to_country or ""),
        "shop": None
        if shop is None
        else {
            "display_name": shop.display_name,
            "slug": shop.slug,
            "bio": shop.bio,
            "created_at": _dt(shop.created_at),
        },
        "legal_acceptances": [
            {
                "document": str(a.document),
                "accepted_at": _dt(a.accepted_at),
                "ip": a.ip,
            }
            for a in LegalAcceptance.objects.filter(user=user).select_related("document")
        ],
    }


def _orders(user: User) -> list[dict]:
    rows = []
    for order in Order.objects.filter(buyer=user).prefetch_related("items").order_by("pk"):
        rows.append(
            {
                "id": order.pk,
                "created_at": _dt(order.created_at),
                "status": order.status,
                "email": order.email,
                "currency": order.currency,
                "subtotal_cents": order.subtotal_cents,
                "shipping_cents": order.shipping_cents,
                "tax_cents": order.tax_cents,
                "total_cents": order.total_cents,
                "paid_at": _dt(order.paid_at),
                "shipping_address": {
                    "name": order.ship_name,
                    "line1": order.ship_line1,
                    "line2": order.ship_line2,
                    "city": order.ship_city,
                    "region": order.ship_region,
                    "postal_code": order.ship_postal_code,
                    "country": order.ship_country,
                    "phone": order.ship_phone,
                },
                "items": [
                    {
                        "title": item.title,
                        "kind": item.kind,
                        "quantity": item.quantity,
                        "unit_price_cents": item.unit_price_cents,
                        "subtotal_cents": item.subtotal_cents,
                        "fulfillment_status": item.fulfillment_status,
                        "refunded_cents": item.refunded_cents,
                    }
                    for item in order.items.all()
                ],
            }
        )
    return rows


def _reviews(user: User) -> list[dict]:
    return [
        {
            "product": r.product.title,
            "rating": r.rating,
            "body": r.body,
            "created_at": _dt(r.created_at),
            "hidden_by_moderation": r.is_hidden,
        }
        for r in Review.objects.filter(author=user).select_related("product").order_by("pk")
    ]


def _messages(user: User) -> list[dict]:
    conversations = Conversation.objects.filter(buyer=user) | Conversation.objects.filter(
        seller=user
    )
    rows = []
    for conv in conversations.distinct().order_by("pk"):
        rows.append(
            {
                "conversation": conv.pk,
                "subject": conv.subject,
                "you_are": "seller" if conv.seller_id == user.pk else "buyer",
                "messages": [
                    {
                        "from": "you" if m.sender_id == user.pk else "the other party",
                        "body": "" if m.removed_at else m.body,
                        "removed_by_moderation": bool(m.removed_at),
                        "sent_at": _dt(m.created_at),
                    }
                    for m in Message.objects.filter(conversation=conv).order_by("pk")
                ],
            }
        )
    return rows


def _questions(user: User) -> dict:
    return {
        "questions": [
            {"product": q.product.title, "body": q.body, "created_at": _dt(q.created_at)}
            for q in Question.objects.filter(author=user).select_related("product")
        ],
        "answers": [
            {"question": a.question.body, "body": a.body, "created_at": _dt(a.created_at)}
            for a in Answer.objects.filter(author=user).select_related("question")
        ],
    }


def _saved(user: User) -> dict:
    return {
        "favorites": [
            {"product": f.product.title, "saved_at": _dt(f.created_at)}
            for f in Favorite.objects.filter(user=user).select_related("product")
        ],
        "wishlist": [
            {"product": w.product.title, "saved_at": _dt(w.created_at)}
            for w in WishlistItem.objects.filter(user=user).select_related("product")
        ],
    }


LISTING_COLUMNS = ["id", "title", "kind", "status", "price_cents", "currency", "created_at"]
SALES_COLUMNS = [
    "order_id",
    "order_created_at",
    "title",
    "quantity",
    "currency",
    "subtotal_cents",
    "marketplace_fee_cents",
    "seller_net_cents",
    "shipping_allocated_cents",
    "refunded_cents",
    "fulfillment_status",
]


def _listings(user: User) -> list[dict]:
    return [
        {
            "id": p.pk,
            "title": p.title,
            "kind": p.kind,
            "status": p.status,
            "price_cents": p.price_cents,
            "currency": p.currency,
            "created_at": _dt(p.created_at),
        }
        for p in Product.objects.filter(seller=user).order_by("pk")
    ]


def _sales(user: User) -> list[dict]:
    # What the seller already sees of their own sales; buyers' contact details are not
    # the seller's to take away.
    return [
        {
            "order_id": i.order_id,
            "order_created_at": _dt(i.order.created_at),
            "title": i.title,
            "quantity": i.quantity,
            "currency": i.currency,
            "subtotal_cents": i.subtotal_cents,
            "marketplace_fee_cents": i.marketplace_fee_cents,
            "seller_net_cents": i.seller_net_cents,
            "shipping_allocated_cents": i.shipping_allocated_cents,
            "refunded_cents": i.refunded_cents,
            "fulfillment_status": i.fulfillment_status,
        }
        for i in OrderItem.objects.filter(seller=user, order__status__in=Order.WAS_PAID)
        .select_related("order")
        .order_by("order_id", "pk")
    ]


def _ledger(user: User) -> list[dict]:
    return [
        {
            "created_at": _dt(e.created_at),
            "reason": e.reason,
            "amount_cents": e.amount_cents,
            "currency": e.currency,
            "order_id": e.order_id,
        }
        for e in SellerBalanceEntry.objects.filter(seller=user).order_by("pk")
    ]


def _csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(
            {k: (f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()}
        )
    return out.getvalue()


def data_export_files(user: User) -> dict[str, str]:
    """{file name: content} of `user`'s export. Sellers also get listings, sales and
    their ledger."""
    orders = _orders(user)
    files = {
        "README.txt": (
            f"Your data from {settings.SITE_NAME}, exported {timezone.now():%Y-%m-%d %H:%M} UTC.\n"
            "Amounts are in cents of the currency named beside them.\n"
        ),
        "profile.json": _profile(user),
        "orders.json": orders,
        "orders.csv": _csv(
            [
                {**o, "items": "; ".join(f"{i['quantity']} x {i['title']}" for i in o["items"])}
                for o in orders
            ],
            ["id", "created_at", "status", "currency", "total_cents", "items"],
        ),
        "reviews.json": _reviews(user),
        "messages.json": _messages(user),
        "questions_and_answers.json": _questions(user),
        "saved.json": _saved(user),
    }
    if SellerProfile.objects.filter(user=user).exists():
        listings, sales = _listings(user), _sales(user)
        files |= {
            "seller/listings.json": listings,
            "seller/listings.csv": _csv(listings, LISTING_COLUMNS),
            "seller/sales.json": sales,
            "seller/sales.csv": _csv(sales, SALES_COLUMNS),
            "seller/ledger.json": _ledger(user),
        }
    return {
        name: content if isinstance(content, str) else json.dumps(content, indent=2)
        for name, content in files.items()
    }


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build the ZIP of a PENDING export, store it privately and email the link. Safe to
    run twice: an export already built is left alone."""
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update()
            .select_related("user")
            .filter(pk=export_id, status=DataExport.Status.PENDING)
            .first()
        )
        if export is None:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in data_export_files(export.user).items():
                archive.writestr(f"homecraft3d-data/{name}", content)
        name = export_storage().save(
            f"exports/{export.user_id}/{export.token}.zip", ContentFile(buffer.getvalue())
        )
        now = timezone.now()
        export.file_name = name
        export.size_bytes = buffer.tell()
        export.status = DataExport.Status.READY
        export.ready_at = now
        export.expires_at = now + timedelta(days=EXPORT_KEEP_DAYS)
        export.save()
    user = export.user
    email_send(
        key=f"data-export-{export.pk}",
        to=user.email,
        template="accounts/emails/data_export_ready",
        context={
            "user": user,
            "link": data_export_link(export),
            "hours": settings.DATA_EXPORT_LINK_SECONDS // 3600,
            "page_path": reverse("accounts:data-export"),
            "notification_user": user,
            "notification_url": reverse("accounts:data-export"),
        },
    )
    return export


def data_export_purge_expired() -> int:
    """Delete the files of exports past `expires_at`; returns how many."""
    count = 0
    for export in DataExport.objects.filter(
        status=DataExport.Status.READY, expires_at__lt=timezone.now()
    ):
        if export.file_name:
            export_storage().delete(export.file_name)
        DataExport.objects.filter(pk=export.pk).update(
            status=DataExport.Status.EXPIRED, file_name=""
        )
        count += 1
    return count
