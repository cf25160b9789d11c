"""Cookie honesty: a whole buyer journey sets only the cookies the Privacy Policy lists."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from catalog.models import Favorite
from marketplace.legal import COOKIE_NAMES
from orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


class CookieWatchingClient(Client):
    """Remembers the name of every cookie any response sets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()

    def request(self, **request):
        response = super().request(**request)
        self.seen |= set(response.cookies.keys())
        return response


def test_a_full_buyer_journey_sets_only_the_listed_cookies(django_capture_on_commit_callbacks):
    client = CookieWatchingClient()
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    other = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)

    # browse
    for url in ("/", reverse("catalog:browse"), product.get_absolute_url()):
        assert client.get(url).status_code == 200
    # add to cart, check out as a guest, pay on the simulator
    client.post(reverse("orders:cart-add"), {"product_id": product.pk})
    assert client.get(reverse("orders:cart")).status_code == 200
    assert client.get(reverse("payments:checkout")).status_code == 200
    email = "journey@example.com"
    to_pay = client.post(reverse("payments:checkout"), {"email": email, "accept_terms": "on"})
    assert to_pay.status_code == 302
    assert client.get(to_pay["Location"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(to_pay["Location"], {"action": "pay"})
    assert paid.status_code == 302
    order = Order.objects.get(email=email)
    assert order.status == "PAID"
    assert client.get(paid["Location"], follow=True).status_code == 200
    # sign up with the same email, confirm it, log out and in again
    client.get(reverse("account_signup"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {"email": email, "password1": PASSWORD, "password2": PASSWORD, "accept_terms": "on"},
        )
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)[1]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link).status_code == 302
    client.post(reverse("account_logout"))
    client.get(reverse("account_login"))
    assert (
        client.post(reverse("account_login"), {"login": email, "password": PASSWORD}).status_code
        == 302
    )
    # favorite something, then download what they bought
    client.post(reverse("social:favorite-toggle", args=[other.pk]))
    assert Favorite.objects.filter(user__email=email, product=other).exists()
    assert client.get(reverse("downloads:library")).status_code == 200
    download = client.get(reverse("downloads:bundle", args=[product.pk]))
    assert download.status_code == 200
    b"".join(download.streaming_content)
    client.get("/accounts/profile/")

    # then every cookie set on the way is one the Privacy Policy lists
    assert client.seen, "the journey set no cookie at all: the watcher is broken"
    assert client.seen <= COOKIE_NAMES, f"unlisted cookies: {client.seen - COOKIE_NAMES}"
    assert {"sessionid", "csrftoken"} <= client.seen
