"""Self-service account deletion: anonymised, the ledger untouched, blocked with reasons."""

import pytest
from django.db.models import Sum
from django.urls import reverse

from accounts.deletion import AccountDeletionBlocked, account_delete
from accounts.models import AccountDeletion
from catalog.models import Favorite, Product, Review
from catalog.selectors import PUBLIC
from downloads.selectors import download_entitlement
from marketplace.models import LegalAcceptance, LegalDocument, User
from orders.models import Order, OrderItem
from payments.models import SellerBalanceEntry
from refunds.models import RefundRequest
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, SellerProfileFactory, UserFactory, activate_totp
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _post(seller, order, amount: int, reason: str, key: str) -> SellerBalanceEntry:
    return SellerBalanceEntry.objects.create(
        seller=seller,
        order=order,
        amount_cents=amount,
        currency="usd",
        reason=reason,
        idempotency_key=key,
    )


def _ledger() -> list[tuple]:
    return list(
        SellerBalanceEntry.objects.order_by("pk").values_list(
            "pk", "seller_id", "order_id", "amount_cents", "reason"
        )
    )


def _settled_sale(seller, buyer, product) -> Order:
    """A paid file order whose seller was paid out: the seller's balance is zero."""
    order = paid_order(product, buyer=buyer, email=buyer.email)
    if not SellerBalanceEntry.objects.filter(order=order).exists():
        _post(seller, order, 450, "SALE", f"t-sale-{order.pk}")
    owed = SellerBalanceEntry.objects.filter(seller=seller).aggregate(s=Sum("amount_cents"))["s"]
    _post(seller, order, -owed, "TRANSFER", f"t-transfer-{order.pk}")
    return order


def test_a_buyer_deletes_their_account_and_only_their_personal_data_goes(client):
    # given a buyer with a paid order, a review, a favorite and two-factor on
    seller = SellerProfileFactory().user
    product = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    buyer = UserFactory(email="ada@example.com", name="Ada Lovelace", display_name="Ada")
    activate_totp(buyer)
    order = _settled_sale(seller, buyer, product)
    Order.objects.filter(pk=order.pk).update(
        ship_name="Ada Lovelace",
        ship_line1="12 Analytical Row",
        ship_phone="+1 555 0199",
        ship_country="US",
        ship_postal_code="62701",
    )
    Review.objects.create(product=product, author=buyer, rating=5, body="Printed perfectly.")
    Favorite.objects.create(user=buyer, product=product)
    other = UserFactory(email="bob@example.com", name="Bob Builder")
    ledger_before = _ledger()
    seller_sum_before = SellerBalanceEntry.objects.aggregate(s=Sum("amount_cents"))["s"]

    # when they delete their account after typing their password
    client.force_login(buyer)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD, "confirm": "on"})

    # then they are logged out and the account is anonymised
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    buyer.refresh_from_db()
    assert buyer.email == f"deleted-{buyer.pk}@invalid"
    assert (buyer.name, buyer.display_name, buyer.is_active) == ("", "", False)
    assert buyer.deleted_at is not None
    assert not buyer.has_usable_password()
    assert not Favorite.objects.filter(user=buyer).exists()
    assert not buyer.emailaddress_set.exists()
    assert AccountDeletion.objects.get(user=buyer).summary["orders_kept_anonymised"] == 1
    # and the order, its lines and every ledger row stay, pointing at the anonymised user
    order.refresh_from_db()
    assert order.buyer_id == buyer.pk
    assert order.email == f"deleted-{buyer.pk}@invalid"
    assert order.ship_name == "" and order.ship_line1 == "" and order.ship_phone == ""
    assert (order.ship_country, order.ship_postal_code) == ("US", "62701")  # where taxed
    assert _ledger() == ledger_before
    assert SellerBalanceEntry.objects.aggregate(s=Sum("amount_cents"))["s"] == seller_sum_before
    # and the review stays, under "Deleted user"
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Deleted user" in html and "Printed perfectly." in html
    assert "Ada" not in html.split("Printed perfectly.")[0][-400:]
    # and nobody else was touched
    other.refresh_from_db()
    assert (other.email, other.name, other.is_active) == ("bob@example.com", "Bob Builder", True)
    # and they cannot log in again
    assert not client.login(email="ada@example.com", password=PASSWORD)


def test_the_wrong_password_deletes_nothing(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    response = client.post(reverse("accounts:delete"), {"password": "nope", "confirm": "on"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    user.refresh_from_db()
    assert user.email == "ada@example.com" and user.deleted_at is None
    assert not AccountDeletion.objects.exists()


def test_deletion_needs_a_login(client):
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_seller_with_open_orders_an_unsettled_balance_and_open_refunds_is_told_why(client):
    # given a seller with an unshipped printed sale (its money not paid out) and a
    # refund request on a file sale
    seller = SellerProfileFactory().user
    printed = ProductFactory(
        seller=seller, physical=True, status="PUBLISHED", complete=True, seller_ready=True
    )
    file = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    buyer = UserFactory()
    order = paid_order(printed, file, buyer=buyer, email=buyer.email)
    if not SellerBalanceEntry.objects.filter(seller=seller).exists():
        _post(seller, order, 2700, "SALE", "t-sale")
    file_line = OrderItem.objects.get(order=order, product=file)
    RefundRequest.objects.create(
        order_item=file_line,
        initiated_by="BUYER",
        requested_by=buyer,
        reason="OTHER",
        currency="usd",
        requested_amount_cents=file_line.total_cents,
    )
    ledger_before = _ledger()

    # when they try to delete their account
    client.force_login(seller)
    page = client.get(reverse("accounts:delete")).content.decode()
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD, "confirm": "on"})

    # then each reason is listed and nothing changed
    assert response.status_code == 409
    html = response.content.decode()
    for text in (
        f"not yet delivered (orders #{order.pk})",
        "We still owe you",
        "refund request on your sales is still open",
    ):
        assert text in html and text in page
    seller.refresh_from_db()
    assert seller.deleted_at is None and seller.is_active
    assert Product.objects.filter(PUBLIC, seller=seller).count() == 2
    assert _ledger() == ledger_before
    assert not AccountDeletion.objects.exists()
    # and the buyer is told to wait for their printed item too
    with pytest.raises(AccountDeletionBlocked) as blocked:
        account_delete(user=buyer)
    assert any("not delivered yet" in r for r in blocked.value.reasons)
    assert any("refund request" in r for r in blocked.value.reasons)


def test_a_settled_seller_deletes_and_their_listings_go_but_buyers_keep_downloads(client):
    # given a seller whose only sale is paid out, with two public listings
    seller = SellerProfileFactory().user
    sold = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    other = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    buyer = UserFactory()
    _settled_sale(seller, buyer, sold)
    assert download_entitlement(product=sold, user=buyer) is not None
    LegalAcceptance.objects.create(
        user=seller, document=LegalDocument.objects.filter(kind="SELLER_AGREEMENT").first()
    )
    ledger_before = _ledger()

    # when the seller deletes their account
    deletion = account_delete(user=seller)

    # then their listings are off the public site and the shop is anonymised
    assert deletion.was_seller and deletion.listings_taken_down == 2
    assert not Product.objects.filter(PUBLIC, pk__in=[sold.pk, other.pk]).exists()
    assert client.get(sold.get_absolute_url()).status_code == 404
    seller.refresh_from_db()
    assert seller.seller_profile.display_name == "Closed shop"
    # and the buyer still downloads what they bought
    assert download_entitlement(product=sold, user=buyer) is not None
    # and the ledger and the consent record are unchanged
    assert _ledger() == ledger_before
    assert LegalAcceptance.objects.filter(user=seller).count() == 1


def test_the_delete_page_lists_nothing_to_wait_for_when_all_is_settled(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get(reverse("accounts:delete")).content.decode()
    assert "data-deletion-blockers" not in html
    assert 'name="password"' in html


def test_a_deleted_account_cannot_be_deleted_twice():
    user = UserFactory()
    account_delete(user=user)
    with pytest.raises(Exception, match="already deleted"):
        account_delete(user=User.objects.get(pk=user.pk))
