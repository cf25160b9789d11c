import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from analytics.management.commands.seed_demo import DEMO_PASSWORD
from marketplace.models import SellerProfile, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_its_printed_logins_work(client, capsys):
    # when it runs twice
    call_command("seed_demo")
    call_command("seed_demo")
    # then there is one of each account, all verified, four shops, one staff
    assert User.objects.count() == 8
    assert SellerProfile.objects.count() == 4
    assert User.objects.filter(is_staff=True).count() == 1
    assert EmailAddress.objects.filter(verified=True).count() == 8
    # and the printed logins work
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert "staff@demo.homecraft3d.test" in out
    assert client.login(email="buyer@demo.homecraft3d.test", password=DEMO_PASSWORD)


def test_seed_demo_buys_and_reviews_through_the_services_once_and_the_ledger_reconciles():
    import io
    import re

    from analytics.demo_reviews import DEMO_REVIEWS
    from catalog.models import Product, Review, ReviewReply
    from catalog.search import BrowseFilters, product_browse
    from orders.models import Order

    call_command("seed_demo", stdout=io.StringIO())
    orders, reviews = Order.objects.count(), Review.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    # reviews from paid orders of the demo buyers, some answered by the seller; not doubled
    assert reviews == len(DEMO_REVIEWS) and Review.objects.count() == reviews
    assert Order.objects.count() == orders == 3
    assert set(Order.objects.values_list("status", flat=True)) == {"PAID"}
    assert ReviewReply.objects.count() == sum(1 for *_, reply in DEMO_REVIEWS if reply) > 0
    # ratings, Top Rated and the rating filter have something to show
    top = product_browse(filters=BrowseFilters(sort="top")).products
    assert [p.title for p in top][:1] and top[0].rating_count >= 1
    assert Product.objects.filter(rating_count__gte=3).count() >= 3
    assert len(product_browse(filters=BrowseFilters(min_rating=4)).products) >= 5
    # the money of those sales reconciles
    out = io.StringIO()
    call_command("reconcile_ledger", stdout=out)
    assert "zero drift" in out.getvalue() and "Checked 3 orders: 0 drift(s)" in out.getvalue()
    # the specs agree with the titles, the tags and the description
    for p in Product.objects.prefetch_related("tags"):
        material = p.print_material or p.material
        named = re.findall(r"\b(PLA|PETG|ASA|Resin)\b", p.title)
        assert not named or named[0] == material, p.title
        assert material.lower() in {t.name for t in p.tags.all()}, p.title
        assert material.lower() in p.description.lower(), p.title
        if p.is_file:
            assert ("without supports" in p.description) is (not p.supports_needed), p.title
