"""The whole production shape on this machine, as `make stack` runs it: an S3 server
(moto), gunicorn, a Celery worker and beat, against PostgreSQL and Redis. A guest buys a
paid digital listing over HTTP and downloads it through a presigned S3 URL.

The listing is made here, its image and file uploaded to the S3 server (seed_demo
would upload the same way but takes minutes on a busy 2-core CI machine; `make stack`
runs it). Skipped on SQLite (the embedded default has no broker and no S3)."""

import re

import pytest
import requests
from django.core.management import call_command

from catalog.models import DigitalAsset, Product
from config.stackrun import S3_BUCKETS
from orders.models import Order
from payments.models import SellerBalanceEntry, StripeEvent
from payments.reconcile import reconcile_ledger
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory
from tests.stackutil import csrf_token, needs_pg_and_redis, stack_for_tests, wait_for

pytestmark = [*needs_pg_and_redis, pytest.mark.django_db(transaction=True)]


def _paid_file_listing() -> Product:
    """A published paid digital listing of a Stripe-ready seller, like the demo's."""
    seller = SellerProfileFactory(display_name="Maple Print Works").user
    return ProductFactory(
        seller=seller,
        title="Self-Watering Planter",
        price_cents=1250,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )


def test_a_guest_buys_through_the_running_stack_and_downloads_from_s3(tmp_path, s3_storages):
    # given a listing whose image and file are on the S3 server
    endpoint, s3 = s3_storages
    product = _paid_file_listing()
    asset = product.assets.get()
    stack = stack_for_tests(tmp_path)
    stack.s3_endpoint = endpoint
    try:
        # and the stack of `make stack` on it: worker, beat and gunicorn
        stack.manage("collectstatic", "--noinput")
        stack.start_worker()
        stack.start_beat()
        stack.start_web()
        web = requests.Session()
        base = stack.url

        # when a guest adds it to the cart from its page
        page = web.get(base + product.get_absolute_url(), timeout=30)
        assert page.status_code == 200 and product.title in page.text
        added = web.post(
            base + "/cart/add/",
            data={"product_id": product.pk, "csrfmiddlewaretoken": csrf_token(page.text)},
            timeout=30,
        )
        assert added.status_code == 200

        # and checks out with an email, landing on the simulator's test checkout
        form = web.get(base + "/checkout/", timeout=30)
        assert form.status_code == 200
        started = web.post(
            base + "/checkout/",
            data={
                "email": "stack.guest@example.com",
                "accept_terms": "on",
                "csrfmiddlewaretoken": csrf_token(form.text),
            },
            allow_redirects=False,
            timeout=30,
        )
        assert started.status_code == 302, started.text[:500]
        simulator = web.get(base + started.headers["Location"], timeout=30)
        assert simulator.status_code == 200 and "TEST MODE" in simulator.text.upper()

        # and pays with the simulated card (the simulator posts the signed webhook)
        paid = web.post(
            simulator.url,
            data={"action": "pay", "csrfmiddlewaretoken": csrf_token(simulator.text)},
            allow_redirects=False,
            timeout=30,
        )
        assert paid.status_code == 302
        order_url = paid.headers["Location"]
        assert re.search(r"/orders/\d+/\?t=", order_url)

        # then the worker processes the event: the order is paid, the seller's ledger
        # has the sale and its transfer, and the ledger reconciles
        order = Order.objects.get(email="stack.guest@example.com")
        wait_for(
            lambda: Order.objects.filter(pk=order.pk, status="PAID").exists(),
            timeout=60,
            what=f"order {order.pk} PAID (worker log:\n{stack.logs('worker')})",
        )
        event = StripeEvent.objects.get(type="checkout.session.completed")
        assert (event.status, event.attempts) == ("PROCESSED", 1)
        net = order.items.get().seller_payable_cents
        ledger = wait_for(
            lambda: (
                sorted(
                    SellerBalanceEntry.objects.filter(order=order).values_list(
                        "reason", "amount_cents"
                    )
                )
                if SellerBalanceEntry.objects.filter(order=order, reason="TRANSFER").exists()
                else None
            ),
            timeout=60,
            what="the seller's transfer entry",
        )
        assert ledger == [("SALE", net), ("TRANSFER", -net)]
        assert reconcile_ledger()[1] == []
        call_command("reconcile_ledger")  # raises CommandError on any drift

        # and the guest's order page (token link) offers the file, whose download is a
        # presigned URL on the S3 server that returns exactly the stored bytes
        order_page = web.get(base + order_url if order_url.startswith("/") else order_url)
        assert order_page.status_code == 200 and "Paid" in order_page.text
        found = re.search(
            rf'href="(/downloads/{product.pk}/files/{asset.pk}/(?:\?t=[^"]+)?)"', order_page.text
        )
        assert found, "the order page links the file"
        link = found.group(1)
        redirect = web.get(base + link, allow_redirects=False, timeout=30)
        assert redirect.status_code == 302
        presigned = redirect.headers["Location"]
        assert presigned.startswith(stack.s3_endpoint + "/" + S3_BUCKETS["S3_PRIVATE_BUCKET"])
        assert "X-Amz-Signature=" in presigned
        body = requests.get(presigned, timeout=30)
        assert body.status_code == 200
        stored = s3.get_object(Bucket=S3_BUCKETS["S3_PRIVATE_BUCKET"], Key=asset.file.name)
        assert len(body.content) == asset.size_bytes > 0
        assert body.content == stored["Body"].read()
        # and the private object is not readable without the signature
        assert requests.get(presigned.split("?")[0], timeout=30).status_code == 403
        # and a stranger without the token gets nothing
        bare = link.split("?")[0]
        assert requests.get(base + bare, allow_redirects=False, timeout=30).status_code == 404
    finally:
        stack.stop()
    assert DigitalAsset.objects.filter(pk=asset.pk).exists()
