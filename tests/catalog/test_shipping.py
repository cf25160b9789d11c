"""The one shipping rule (catalog.shipping.seller_shipping_quote) and profile services."""

import pytest

from catalog import services
from catalog.services import RateInput
from catalog.shipping import add_business_days, seller_shipping_quote
from marketplace.exceptions import ApplicationError
from tests.catalog.factories import ProductFactory, shipping_profile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _printed(seller, profile, price_cents=2000):
    return ProductFactory(
        seller=seller, physical=True, price_cents=price_cents, shipping_profile=profile
    )


def test_one_item_pays_the_first_item_rate_of_its_country():
    seller = UserFactory()
    profile = shipping_profile(
        seller, country="CA", first_item_cents=800, additional_item_cents=200
    )
    quote = seller_shipping_quote(lines=[(_printed(seller, profile), 1)], country="CA")
    assert (quote.cents, quote.unavailable, quote.free) == (800, {}, False)


def test_more_items_pay_the_additional_rate_each():
    # given one listing (first 800, additional 200) and another (first 1200, additional 300)
    seller = UserFactory()
    small = shipping_profile(seller, country="CA", first_item_cents=800, additional_item_cents=200)
    big = shipping_profile(seller, country="CA", first_item_cents=1200, additional_item_cents=300)
    a, b = _printed(seller, small), _printed(seller, big)
    # when 3 of the first and 2 of the second ship to Canada
    quote = seller_shipping_quote(lines=[(a, 3), (b, 2)], country="CA")
    # then the dearest first-item rate once (1200), then every other unit its additional
    # rate: 1 × 300 for b, 3 × 200 for a
    assert quote.cents == 1200 + 300 + 3 * 200


def test_everywhere_else_prices_countries_without_their_own_row():
    seller = UserFactory()
    profile = shipping_profile(
        seller,
        country="",
        first_item_cents=2500,
        additional_item_cents=500,
        extra_rates=[("US", 500, 100)],
    )
    product = _printed(seller, profile)
    assert seller_shipping_quote(lines=[(product, 2)], country="US").cents == 600
    assert seller_shipping_quote(lines=[(product, 2)], country="JP").cents == 3000


def test_a_destination_not_served_is_unavailable_with_the_reason():
    seller = UserFactory()
    profile = shipping_profile(seller, country="US", first_item_cents=500)
    product = _printed(seller, profile)
    quote = seller_shipping_quote(lines=[(product, 1)], country="FR")
    assert (quote.cents, quote.unavailable) == (0, {product.pk: "Does not ship to France."})


def test_free_shipping_over_the_threshold_on_the_sellers_printed_subtotal():
    seller = UserFactory()
    profile = shipping_profile(
        seller, country="", first_item_cents=900, additional_item_cents=300, free_over_cents=5000
    )
    product = _printed(seller, profile, price_cents=2000)
    # 2 × $20 = $40 is under $50: paid; 3 × $20 = $60 is over: free
    assert seller_shipping_quote(lines=[(product, 2)], country="DE").cents == 1200
    free = seller_shipping_quote(lines=[(product, 3)], country="DE")
    assert (free.cents, free.free) == (0, True)


def test_files_are_not_shipped():
    seller = UserFactory()
    file = ProductFactory(seller=seller)
    assert seller_shipping_quote(lines=[(file, 1)], country="CA").cents == 0


def test_processing_days_count_business_days():
    from datetime import date

    # Friday 4 Dec 2026 + 3 business days = Wednesday 9 Dec
    assert add_business_days(date(2026, 12, 4), 3) == date(2026, 12, 9)


def test_a_profile_with_a_repeated_destination_is_refused_and_nothing_is_saved():
    seller = UserFactory()
    with pytest.raises(ApplicationError, match="only once"):
        services.shipping_profile_create(
            seller=seller,
            name="Dup",
            origin_country="CA",
            processing_min_days=1,
            processing_max_days=2,
            free_over_cents=None,
            rates=[RateInput("US", 500, 100), RateInput("US", 600, 100)],
        )
    assert seller.shipping_profiles.count() == 0


def test_a_profile_in_use_cannot_be_deleted():
    seller = UserFactory()
    profile = shipping_profile(seller)
    _printed(seller, profile)
    with pytest.raises(ApplicationError, match="1 listing uses this profile"):
        services.shipping_profile_delete(profile=profile)
    assert seller.shipping_profiles.count() == 1


def test_the_seller_manages_profiles_in_their_workspace(client):
    from tests.factories import SellerProfileFactory

    seller = SellerProfileFactory().user
    other = SellerProfileFactory().user
    theirs = shipping_profile(other)
    client.force_login(seller)
    response = client.post(
        "/seller/shipping/new/",
        {
            "name": "Parcels",
            "origin_country": "CA",
            "processing_min_days": "1",
            "processing_max_days": "3",
            "free_over": "75.00",
            "rates-TOTAL_FORMS": "3",
            "rates-INITIAL_FORMS": "0",
            "rates-0-country": "CA",
            "rates-0-first_item": "7.95",
            "rates-0-additional_item": "2.00",
            "rates-1-country": "*",
            "rates-1-first_item": "24.95",
            "rates-1-additional_item": "6.00",
            "rates-2-country": "",
        },
    )
    assert response.status_code == 302
    profile = seller.shipping_profiles.get()
    assert (profile.origin_country.code, profile.free_over_cents) == ("CA", 7500)
    assert sorted(
        (r.country.code or "", r.first_item_cents, r.additional_item_cents)
        for r in profile.rates.all()
    ) == [("", 2495, 600), ("CA", 795, 200)]
    # another seller's profile is a 404 to edit or delete
    assert client.get(f"/seller/shipping/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/seller/shipping/{theirs.pk}/delete/").status_code == 404
