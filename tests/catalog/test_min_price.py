"""A paid item costs at least SiteConfig.min_price_cents; 0 (free) stays allowed for files."""

import pytest
from django.db import IntegrityError, transaction

from catalog import services
from catalog.forms import ListingForm
from catalog.models import Product
from marketplace.exceptions import ApplicationError
from marketplace.models import SiteConfig
from tests.catalog.factories import ProductFactory, category
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["FILE", "PHYSICAL"])
def test_a_price_under_the_minimum_is_refused_and_nothing_is_saved(kind):
    seller = UserFactory()
    with pytest.raises(ApplicationError, match=r"at least \$1\.00"):
        services.product_create(
            seller=seller, kind=kind, title="Cheap", category=category(), price_cents=99
        )
    assert Product.objects.count() == 0


def test_free_files_and_the_minimum_itself_are_allowed():
    seller = UserFactory()
    free = services.product_create(
        seller=seller, kind="FILE", title="Free", category=category(), price_cents=0
    )
    paid = services.product_create(
        seller=seller, kind="FILE", title="One dollar", category=category(), price_cents=100
    )
    assert (free.price_cents, paid.price_cents) == (0, 100)


def test_the_minimum_follows_site_config_and_an_edit_below_it_is_refused():
    SiteConfig.objects.update_or_create(pk=1, defaults={"min_price_cents": 250})
    product = ProductFactory(price_cents=500)
    with pytest.raises(ApplicationError, match=r"at least \$2\.50"):
        services.product_update(product=product, price_cents=200)
    product.refresh_from_db()
    assert product.price_cents == 500


def test_the_form_says_so_too():
    form = ListingForm({"title": "x", "category": category().pk, "price": "0.75"}, kind="FILE")
    assert not form.is_valid()
    assert form.errors["price"] == ["A paid item costs at least $1.00 (or 0 for a free file)."]


def test_the_minimum_can_never_be_below_stripes_50_cents():
    SiteConfig.objects.get_or_create(pk=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteConfig.objects.filter(pk=1).update(min_price_cents=49)
