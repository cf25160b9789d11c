import pytest
from django.template.loader import render_to_string

from marketplace.templatetags.money import format_money
from tests.factories import SellerProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_renders_for_a_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Home Craft 3D" in html
    assert 'name="q"' in html  # the header search box
    assert "/accounts/signup/" in html


def test_header_shows_the_seller_menu_for_sellers_and_the_pitch_for_others(client):
    profile = SellerProfileFactory(slug="maple")
    client.force_login(profile.user)
    assert "/shops/maple/" in client.get("/").content.decode()
    client.force_login(UserFactory())
    assert "/seller/shop/new/" in client.get("/").content.decode()


def test_unknown_pages_get_our_404(client):
    response = client.get("/definitely/not/here/")
    assert response.status_code == 404
    assert "Home Craft 3D" in response.content.decode()


def test_the_500_page_renders_without_any_context():
    html = render_to_string("500.html")
    assert "Home Craft 3D" in html


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (0, "usd", "$0.00"),
        (1999, "usd", "$19.99"),
        (123456789, "eur", "€1,234,567.89"),
        (-505, "gbp", "-£5.05"),
        (1500, "jpy", "1,500 JPY"),
        (1000, "chf", "10.00 CHF"),
    ],
)
def test_money_is_formatted_from_integer_cents(cents, currency, text):
    assert format_money(cents, currency) == text


@pytest.mark.parametrize("url", ["/legal/terms/", "/legal/privacy/", "/legal/seller-agreement/"])
def test_legal_pages_render(client, url):
    assert client.get(url).status_code == 200


def test_a_form_without_its_csrf_token_gets_our_expired_form_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "a@b.c"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/orders/99999999999999999999999/",
        "/downloads/1/files/99999999999999999999999/",
        "/downloads/99999999999999999999999/bundle/",
        "/seller/listings/99999999999999999999999/edit/",
    ],
)
def test_absurd_ids_are_a_404_not_a_database_error(client, url):
    client.force_login(SellerProfileFactory().user)
    assert client.get(url).status_code == 404


def test_an_absurd_product_id_in_a_form_is_a_message_not_a_500(client):
    response = client.post("/cart/add/", {"product_id": str(10**25)})
    assert response.status_code == 302
