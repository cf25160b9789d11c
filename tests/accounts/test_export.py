"""Data export: a ZIP of exactly the requester's data, by a short-lived link."""

import io
import json
import re
import zipfile

import pytest
from django.core import mail
from django.urls import reverse

from accounts.export import data_export_build
from accounts.models import DataExport
from catalog.models import Favorite, Review
from messaging.models import Conversation, Message
from payments.models import SellerBalanceEntry
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _people():
    """Ada (a buyer who also sells) and Bob (another buyer), each with their own data."""
    shop = SellerProfileFactory(display_name="Ada Prints")
    ada = shop.user
    ada.display_name, ada.name = "Ada", "Ada Lovelace"
    ada.save()
    bob = UserFactory(name="Bob Builder")
    maker = SellerProfileFactory().user
    theirs = ProductFactory(
        seller=maker, title="Bob-and-Ada Vase", status="PUBLISHED", complete=True, seller_ready=True
    )
    mine = ProductFactory(
        seller=ada, title="Ada Hook", status="PUBLISHED", complete=True, seller_ready=True
    )
    ada_order = paid_order(theirs, buyer=ada, email=ada.email)
    bob_order = paid_order(theirs, buyer=bob, email=bob.email)
    bob_buys_from_ada = paid_order(mine, buyer=bob, email=bob.email)
    Review.objects.create(product=theirs, author=ada, rating=5, body="Ada's own words here.")
    Review.objects.create(product=theirs, author=bob, rating=2, body="Bob's secret opinion.")
    Favorite.objects.create(user=ada, product=theirs)
    Favorite.objects.create(user=bob, product=mine)
    conv = Conversation.objects.create(seller=maker, buyer=ada, subject="SHOP")
    Message.objects.create(conversation=conv, sender=ada, body="Ada asks about colours.")
    other = Conversation.objects.create(seller=maker, buyer=bob, subject="SHOP")
    Message.objects.create(conversation=other, sender=bob, body="Bob's private message.")
    SellerBalanceEntry.objects.create(
        seller=ada,
        order=bob_buys_from_ada,
        amount_cents=450,
        currency="usd",
        reason="SALE",
        idempotency_key="t-ada-sale",
    )
    return ada, bob, ada_order, bob_order, bob_buys_from_ada


def _zip_of(response) -> zipfile.ZipFile:
    body = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(body))


def test_an_export_holds_all_of_my_data_and_none_of_anyone_elses(
    client, django_capture_on_commit_callbacks
):
    # given Ada and Bob, each with orders, reviews, favorites and messages
    ada, bob, ada_order, bob_order, sale = _people()
    client.force_login(ada)

    # when Ada asks for an export (built by the task, then emailed)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:data-export"))
    assert response.status_code == 302
    export = DataExport.objects.get(user=ada)
    assert export.status == DataExport.Status.READY

    # then the email holds a link that downloads the ZIP
    message = [m for m in mail.outbox if "data export" in m.subject][-1]
    assert message.to == [ada.email]
    link = re.search(r"https?://[^/\s]+(/accounts/data-export/\S+)", message.body)[1]
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = _zip_of(download)
    names = {n.removeprefix("homecraft3d-data/") for n in archive.namelist()}
    assert {
        "profile.json",
        "orders.json",
        "orders.csv",
        "reviews.json",
        "messages.json",
        "saved.json",
        "seller/listings.json",
        "seller/sales.json",
        "seller/sales.csv",
        "seller/ledger.json",
    } <= names

    def read(name):
        return json.loads(archive.read(f"homecraft3d-data/{name}"))

    assert read("profile.json")["email"] == ada.email
    assert read("profile.json")["display_name"] == "Ada"
    assert [o["id"] for o in read("orders.json")] == [ada_order.pk]
    assert [r["body"] for r in read("reviews.json")] == ["Ada's own words here."]
    assert [f["product"] for f in read("saved.json")["favorites"]] == ["Bob-and-Ada Vase"]
    messages = read("messages.json")
    assert [m["body"] for c in messages for m in c["messages"]] == ["Ada asks about colours."]
    assert [s["order_id"] for s in read("seller/sales.json")] == [sale.pk]
    assert [e["amount_cents"] for e in read("seller/ledger.json")] == [450]
    assert [p["title"] for p in read("seller/listings.json")] == ["Ada Hook"]
    # and nothing of Bob's is anywhere in it
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    for secret in ("Bob's secret opinion.", "Bob's private message.", bob.email, "Bob Builder"):
        assert secret not in everything
    assert f'"id": {bob_order.pk}' not in archive.read("homecraft3d-data/orders.json").decode()


def test_only_the_requester_can_use_the_link(client):
    ada, bob, *_ = _people()
    export = DataExport.objects.create(user=ada)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    from accounts.export import data_export_link

    link = data_export_link(export)
    # anonymous: sent to log in
    assert client.get(link).status_code == 302
    # someone else, signed in: 404
    client.force_login(bob)
    assert client.get(link).status_code == 404
    # a forged signature: no file
    client.force_login(ada)
    forged = client.get(link.split("?")[0] + "?s=" + export.token + ":forged")
    assert forged.status_code == 302
    assert forged["Location"] == reverse("accounts:data-export")


def test_an_expired_link_no_longer_downloads(client, settings):
    ada = UserFactory()
    export = DataExport.objects.create(user=ada)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    from accounts.export import data_export_link

    link = data_export_link(export)
    settings.DATA_EXPORT_LINK_SECONDS = -1  # every signature is already too old
    client.force_login(ada)
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:data-export")


def test_a_second_request_while_one_is_prepared_is_refused(client):
    ada = UserFactory()
    DataExport.objects.create(user=ada)  # pending
    client.force_login(ada)
    response = client.post(reverse("accounts:data-export"))
    assert response.status_code == 409
    assert "already being prepared" in response.content.decode()
    assert DataExport.objects.filter(user=ada).count() == 1


def test_building_twice_builds_once(django_capture_on_commit_callbacks):
    ada = UserFactory()
    export = DataExport.objects.create(user=ada)
    with django_capture_on_commit_callbacks(execute=True):  # emails go after commit
        assert data_export_build(export_id=export.pk) is not None
        assert data_export_build(export_id=export.pk) is None
    assert len([m for m in mail.outbox if "data export" in m.subject]) == 1


def test_expired_exports_are_purged_with_their_file():
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from accounts.export import export_storage

    ada = UserFactory()
    export = DataExport.objects.create(user=ada)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    name = export.file_name
    assert export_storage().exists(name)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    call_command("data_exports_purge")
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED
    assert not export_storage().exists(name)
