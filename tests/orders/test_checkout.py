import io
import threading

import pytest
from django.core import mail
from django.db import connection

from catalog.models import Product
from marketplace.exceptions import ApplicationError
from marketplace.models import SiteConfig
from orders.models import Order, OrderEvent
from orders.services import (
    order_checkout_expired,
    order_create_from_cart,
    order_payment_failed,
    order_payment_succeeded,
)
from payments.checkout import checkout_start
from payments.models import SellerBalanceEntry
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _live(**kwargs) -> Product:
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


def _guest_order(product: Product, quantity: int = 1) -> Order:
    """A guest's PENDING order for `quantity` of `product`, through the real service."""
    return order_create_from_cart(
        cart={str(product.pk): quantity}, buyer=None, email="g@example.com", ship_to_country="US"
    )


def test_an_order_snapshots_every_line_to_the_cent():
    # given a 12.5% fee and a two-seller cart: a file, and two printed items of one seller
    SiteConfig.objects.update_or_create(pk=1, defaults={"fee_bps": 1250})
    file = _live(price_cents=999)
    maker = UserFactory()
    vase = _live(
        physical=True, seller=maker, price_cents=3000, shipping_cents=700, stock_quantity=4
    )
    hooks = _live(
        physical=True, seller=maker, price_cents=1000, shipping_cents=500, stock_quantity=9
    )
    buyer = UserFactory()
    cart = {str(file.pk): 1, str(vase.pk): 2, str(hooks.pk): 1}
    # when the order is created
    order = order_create_from_cart(
        cart=cart, buyer=buyer, email="Buyer@Example.com", ship_to_country="US"
    )
    # then the order totals are exact and add up
    assert (order.status, order.fee_bps, order.email) == ("PENDING", 1250, "buyer@example.com")
    assert order.subtotal_cents == 999 + 6000 + 1000
    assert order.shipping_cents == 700  # the maker's items ship together: highest price once
    assert order.total_cents == 7999 + 700
    lines = {i.product_id: i for i in order.items.all()}
    f, v, h = lines[file.pk], lines[vase.pk], lines[hooks.pk]
    assert (f.subtotal_cents, f.marketplace_fee_cents, f.seller_net_cents) == (999, 125, 874)
    assert (v.subtotal_cents, v.marketplace_fee_cents, v.seller_net_cents) == (6000, 750, 5250)
    assert (h.subtotal_cents, h.marketplace_fee_cents, h.seller_net_cents) == (1000, 125, 875)
    # shipping split over the maker's lines by subtotal (6000:1000), largest remainder
    assert (v.shipping_allocated_cents, h.shipping_allocated_cents, f.shipping_allocated_cents) == (
        600,
        100,
        0,
    )
    assert sum(i.shipping_allocated_cents for i in lines.values()) == order.shipping_cents
    assert (v.fulfillment_status, f.fulfillment_status) == ("UNFULFILLED", "N/A")
    # and physical stock is reserved
    vase.refresh_from_db()
    hooks.refresh_from_db()
    assert (vase.stock_quantity, hooks.stock_quantity) == (2, 8)
    assert list(order.events.values_list("kind", flat=True)) == ["CREATED"]


def test_later_price_or_fee_changes_do_not_touch_the_order():
    product = _live(price_cents=1500)
    order = _guest_order(product)
    Product.objects.filter(pk=product.pk).update(price_cents=99)
    SiteConfig.objects.update_or_create(pk=1, defaults={"fee_bps": 5000})
    item = order.items.get()
    item.refresh_from_db()
    assert (item.unit_price_cents, item.fee_bps, item.marketplace_fee_cents) == (1500, 1000, 150)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "DRAFT"}, "This listing is not available."),
        ({"seller_ready": False}, "The seller is not set up to take payments yet."),
        ({"physical": True, "stock_quantity": 0}, "Out of stock."),
    ],
)
def test_checkout_refuses_what_can_buy_refuses_and_writes_nothing(overrides, message):
    product = ProductFactory(
        **{"status": "PUBLISHED", "complete": True, "seller_ready": True, **overrides}
    )
    with pytest.raises(ApplicationError, match=message):
        _guest_order(product)
    assert not Order.objects.exists()


def test_checkout_refuses_more_than_the_stock_and_keeps_the_stock():
    product = _live(physical=True, stock_quantity=2)
    with pytest.raises(ApplicationError, match="only 2 left"):
        _guest_order(product, quantity=3)
    product.refresh_from_db()
    assert product.stock_quantity == 2 and not Order.objects.exists()


def test_buying_your_own_item_is_refused_at_checkout_too():
    product = _live()
    with pytest.raises(ApplicationError, match="your own listing"):
        order_create_from_cart(
            cart={str(product.pk): 1}, buyer=product.seller, email="x@y.z", ship_to_country="US"
        )


def test_an_expired_checkout_releases_the_stock_exactly_once():
    product = _live(physical=True, stock_quantity=3)
    order = _guest_order(product, quantity=2)
    order_checkout_expired(order_id=order.pk)
    order_checkout_expired(order_id=order.pk)  # duplicate event
    product.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, product.stock_quantity) == ("EXPIRED", 3)
    assert order.events.filter(kind="EXPIRED").count() == 1


def test_checkouts_pending_past_48_hours_expire_and_give_their_stock_back():
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    product = _live(physical=True, stock_quantity=10)
    abandoned, recent, paid_late = (_guest_order(product, quantity=n) for n in (2, 3, 1))
    old = timezone.now() - timedelta(hours=49)
    Order.objects.filter(pk__in=[abandoned.pk, paid_late.pk]).update(created_at=old)
    Order.objects.filter(pk=paid_late.pk).update(status=Order.Status.PAID)
    product.refresh_from_db()
    assert product.stock_quantity == 4

    out = io.StringIO()
    call_command("expire_abandoned_orders", stdout=out)
    call_command("expire_abandoned_orders", stdout=io.StringIO())  # nothing left to do

    assert "Expired 1, confirmed paid 0" in out.getvalue()
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {abandoned.pk: "EXPIRED", recent.pk: "PENDING", paid_late.pk: "PAID"}
    product.refresh_from_db()
    assert product.stock_quantity == 6  # the abandoned 2 came back, once


def test_a_failed_async_payment_releases_the_stock():
    product = _live(physical=True, stock_quantity=1)
    order = _guest_order(product)
    order_payment_failed(order_id=order.pk, reason="bank debit returned")
    product.refresh_from_db()
    assert product.stock_quantity == 1
    assert Order.objects.get(pk=order.pk).status == "FAILED"


def test_a_late_expiry_after_payment_changes_nothing_and_is_noted(
    django_capture_on_commit_callbacks,
):
    product = _live(price_cents=0)
    order = _guest_order(product)
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_succeeded(
            order_id=order.pk, checkout_session_id="", payment_intent_id="", charge_id=""
        )
    order_checkout_expired(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "PAID"
    assert order.events.filter(kind=OrderEvent.Kind.NOTE).count() == 1


def test_a_session_that_is_not_the_orders_is_refused():
    product = _live(price_cents=500)
    order = _guest_order(product)
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id="cs_real")
    with pytest.raises(ApplicationError):
        order_payment_succeeded(
            order_id=order.pk,
            checkout_session_id="cs_other",
            payment_intent_id="pi",
            charge_id="ch",
        )
    assert Order.objects.get(pk=order.pk).status == "PENDING"


def test_a_free_cart_completes_without_stripe_posts_no_ledger_and_emails_once(
    django_capture_on_commit_callbacks,
):
    product = _live(price_cents=0)
    order = _guest_order(product)
    with django_capture_on_commit_callbacks(execute=True):
        result = checkout_start(order=order, success_url="/done/", cancel_url="/cart/")
    assert result.url == "/done/"
    order.refresh_from_db()
    assert order.status == "PAID" and order.paid_at is not None
    assert not SellerBalanceEntry.objects.exists()
    subjects = sorted(m.subject for m in mail.outbox)
    # (tasks run eagerly in tests, so the delayed review request is sent at once)
    assert subjects == [
        f"How did it go? Review your order #{order.pk}",
        f"New sale on Home Craft 3D: order #{order.pk}",
        f"Your Home Craft 3D order #{order.pk} is confirmed",
    ]
    assert (
        f"?t={order.access_token}" in next(m for m in mail.outbox if m.to == ["g@example.com"]).body
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_n_buyers_checking_out_the_last_unit_at_once_only_one_wins():
    product = _live(physical=True, stock_quantity=1)
    barrier, results = threading.Barrier(6), []

    def buy(n: int) -> None:
        barrier.wait()
        try:
            order_create_from_cart(
                cart={str(product.pk): 1}, buyer=None, email=f"b{n}@x.com", ship_to_country="US"
            )
            results.append("won")
        except ApplicationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    product.refresh_from_db()
    assert sorted(results) == ["refused"] * 5 + ["won"]
    assert product.stock_quantity == 0
    assert Order.objects.count() == 1
