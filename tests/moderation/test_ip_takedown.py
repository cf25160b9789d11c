"""Notice and takedown for intellectual property, with its audit trail."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import Product
from catalog.selectors import PUBLIC
from messaging.models import Notification
from moderation.ip import ip_takedown
from moderation.models import CounterNotice, IPNotice, Report, StaffActionLog
from moderation.selectors import ip_strikes
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("moderation:ip-notice")


def _notice_data(product: Product, **overrides) -> dict:
    return {
        "claimant_name": "Rita Rights",
        "claimant_email": "rita@studio.example",
        "work_description": "My Voronoi planter, designed in 2024.",
        "work_url": "https://studio.example/voronoi",
        "listing_url": f"https://homecraft3d.example{product.get_absolute_url()}",
        "sworn_statement": "on",
        "signature": "Rita Rights",
        **overrides,
    }


def _listing() -> Product:
    seller = SellerProfileFactory().user
    return ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)


def test_a_rights_holder_reports_a_listing_without_an_account(
    client, django_capture_on_commit_callbacks
):
    product = _listing()
    # the public form opens for anyone and carries a CSRF token
    page = client.get(URL)
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.content.decode()
    # when they send a complete notice
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _notice_data(product))
    # then it lands in the moderation queue as an IP report about the seller's listing
    assert response.status_code == 200
    assert "your notice is with our team" in response.content.decode()
    report = Report.objects.get(kind=Report.Kind.IP)
    assert (report.target_id, report.subject_user, report.status) == (
        product.pk,
        product.seller,
        Report.Status.OPEN,
    )
    assert report.reporter is None and report.reporter_email == "rita@studio.example"
    notice = IPNotice.objects.get(report=report)
    assert notice.sworn_statement and notice.work_url == "https://studio.example/voronoi"
    # and the receipt is emailed, and the step is audited
    assert [m.to for m in mail.outbox if "notice" in m.subject] == [["rita@studio.example"]]
    assert StaffActionLog.objects.filter(action="ip_notice.receive", actor=None).count() == 1
    # and the listing is still up until staff decide
    assert Product.objects.filter(PUBLIC, pk=product.pk).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sworn_statement": ""}, "Tick the sworn statement"),
        ({"listing_url": "https://elsewhere.example/thing/"}, "not a listing on this site"),
        ({"claimant_email": "not-an-email"}, "Enter a valid email address."),
        ({"signature": ""}, "This field is required."),
    ],
)
def test_an_incomplete_notice_is_refused_clearly(client, overrides, message):
    product = _listing()
    response = client.post(URL, _notice_data(product, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists() and not IPNotice.objects.exists()


def test_the_same_notice_twice_is_refused(client):
    product = _listing()
    client.post(URL, _notice_data(product))
    response = client.post(URL, _notice_data(product))
    assert response.status_code == 400
    assert "already sent a notice" in response.content.decode()
    assert Report.objects.filter(kind=Report.Kind.IP).count() == 1


def test_the_form_is_rate_limited(client, settings):
    settings.IP_NOTICE_RATE = "2/h"
    product = _listing()
    for n in range(2):
        client.post(URL, _notice_data(product, claimant_email=f"r{n}@studio.example"))
    response = client.post(URL, _notice_data(product, claimant_email="r9@studio.example"))
    assert response.status_code == 429
    assert Report.objects.filter(kind=Report.Kind.IP).count() == 2


def test_staff_take_down_then_the_seller_counter_notices(
    client, django_capture_on_commit_callbacks
):
    # given a notice about a listing
    product = _listing()
    seller = product.seller
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _notice_data(product))
    report = Report.objects.get(kind=Report.Kind.IP)
    staff = StaffFactory(is_superuser=True)

    # when staff uphold it from the admin (the confirmation page, then a reason)
    client.force_login(staff)
    changelist = reverse("admin:moderation_ipnotice_changelist")
    notice = report.ip_notice
    confirm = client.post(
        changelist, {"action": "take_down_listing", "_selected_action": [notice.pk]}
    )
    assert confirm.status_code == 200
    done = client.post(
        changelist,
        {
            "action": "take_down_listing",
            "_selected_action": [notice.pk],
            "apply": "Yes",
            "reason": "The listing copies Rita's published planter.",
        },
    )
    assert done.status_code == 302

    # then the listing is down, the report actioned, and the step audited with the seller
    # as subject, who gets a statement of reasons
    product.refresh_from_db()
    assert product.is_taken_down
    assert not Product.objects.filter(PUBLIC, pk=product.pk).exists()
    report.refresh_from_db()
    assert report.status == Report.Status.ACTIONED and report.resolved_by == staff
    entry = StaffActionLog.objects.get(action="listing.ip_take_down")
    assert (entry.actor, entry.subject_user) == (staff, seller)
    note = Notification.objects.get(user=seller, kind="moderation/emails/decision")
    assert note.url == reverse("moderation:statement", args=[entry.pk])

    # when the seller reads the statement, it explains the counter-notice
    client.force_login(seller)
    statement = client.get(note.url).content.decode()
    assert "counter-notice" in statement
    counter_url = reverse("moderation:ip-counter-notice", args=[entry.pk])
    assert counter_url in statement
    # and a counter-notice without the good-faith statement is refused
    bad = client.post(counter_url, {"explanation": "Mine.", "full_name": "S", "address": "X"})
    assert bad.status_code == 400
    assert not CounterNotice.objects.exists()
    # when they send it
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            counter_url,
            {
                "explanation": "I designed this planter myself in 2023; files attached to my blog.",
                "full_name": "Sam Seller",
                "address": "1 Maker Street, Springfield",
                "good_faith_statement": "on",
                "signature": "Sam Seller",
            },
        )
    assert sent.status_code == 302
    # then an appeal lands in the queue, the rights holder is emailed, it is audited
    counter = CounterNotice.objects.get(notice=notice)
    assert counter.report.kind == Report.Kind.APPEAL and counter.report.subject_user == seller
    forwarded = [m for m in mail.outbox if m.to == ["rita@studio.example"]]
    assert len(forwarded) == 1 and "I designed this planter myself" in forwarded[0].body
    assert StaffActionLog.objects.filter(action="ip_counter_notice.receive").count() == 1
    # and only once
    again = client.post(
        counter_url,
        {
            "explanation": "Again",
            "full_name": "Sam",
            "address": "1",
            "good_faith_statement": "on",
            "signature": "Sam",
        },
    )
    assert again.status_code == 400
    assert CounterNotice.objects.count() == 1


def test_only_the_seller_of_the_takedown_sees_the_counter_notice_form(client):
    product = _listing()
    client.post(URL, _notice_data(product))
    entry = ip_takedown(
        report=Report.objects.get(kind=Report.Kind.IP), actor=StaffFactory(), reason="Copied."
    )
    client.force_login(UserFactory())
    assert client.get(reverse("moderation:ip-counter-notice", args=[entry.pk])).status_code == 404


def test_repeat_infringers_are_counted_and_flagged_to_staff(client):
    # given a seller with two upheld notices, and another with none
    seller = SellerProfileFactory().user
    clean = SellerProfileFactory().user
    staff = StaffFactory(is_superuser=True)
    for n in range(2):
        product = ProductFactory(
            seller=seller, status="PUBLISHED", complete=True, seller_ready=True
        )
        client.post(URL, _notice_data(product, claimant_email=f"r{n}@studio.example"))
        ip_takedown(
            report=Report.objects.get(kind=Report.Kind.IP, target_id=product.pk),
            actor=staff,
            reason="Copied.",
        )
    # then the selector counts them
    assert ip_strikes([seller.pk, clean.pk]) == {seller.pk: 2}
    # and the admin list flags the seller
    client.force_login(staff)
    html = client.get(reverse("admin:moderation_ipnotice_changelist")).content.decode()
    assert "2 — REPEAT INFRINGER" in html


def test_a_file_listing_links_to_the_notice_form_with_its_address(client):
    product = _listing()
    html = client.get(product.get_absolute_url()).content.decode()
    link = re.search(r'href="(/ip/report/\?listing=[^"]+)"', html)[1]
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f"http://testserver{product.get_absolute_url()}" in form
