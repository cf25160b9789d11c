import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.urls import include, path, reverse

from catalog.favorites import (
    favorite_toggle,
    save_buttons_state,
    saved_lists_for_user,
    saved_state,
    wishlist_toggle,
)
from catalog.models import Favorite, Product, WishlistItem
from config.urls import urlpatterns as root_urlpatterns
from marketplace.exceptions import ApplicationError
from orders.selectors import SESSION_CART_KEY
from orders.wishlist import wishlist_move_to_cart
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory

# The "social" URLs, whether or not config/urls.py includes them yet.
urlpatterns = list(root_urlpatterns)
if not any(getattr(p, "namespace", None) == "social" for p in root_urlpatterns):
    urlpatterns.append(path("", include("catalog.urls_social")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

HTMX = {"HX-Request": "true"}


def _product(**kwargs) -> Product:
    seller = kwargs.pop("seller", None) or SellerProfileFactory().user
    kwargs.setdefault("seller_ready", True)
    kwargs.setdefault("status", "PUBLISHED")
    return ProductFactory(seller=seller, complete=True, **kwargs)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- services ---------------------------------------------------------------------
def test_favorite_and_wishlist_toggle_on_then_off_independently():
    # given
    user, product = UserFactory(), _product()
    # when / then
    assert favorite_toggle(user=user, product=product) is True
    assert wishlist_toggle(user=user, product=product) is True
    assert saved_state(user=user, product_ids=[product.pk]) == {product.pk: (True, True)}
    assert favorite_toggle(user=user, product=product) is False
    assert saved_state(user=user, product_ids=[product.pk]) == {product.pk: (False, True)}
    assert wishlist_toggle(user=user, product=product) is False
    assert (Favorite.objects.count(), WishlistItem.objects.count()) == (0, 0)


def test_your_own_or_a_hidden_listing_cannot_be_saved_but_a_saved_one_can_be_removed():
    product = _product()
    with pytest.raises(ApplicationError, match="This is your own listing"):
        favorite_toggle(user=product.seller, product=product)
    user = UserFactory()
    wishlist_toggle(user=user, product=product)
    Product.objects.filter(pk=product.pk).update(is_taken_down=True)
    product.refresh_from_db()
    with pytest.raises(ApplicationError, match="This listing is not available"):
        favorite_toggle(user=user, product=product)
    assert wishlist_toggle(user=user, product=product) is False
    assert (Favorite.objects.count(), WishlistItem.objects.count()) == (0, 0)


def test_saved_state_is_one_query_per_list(django_assert_num_queries):
    user = UserFactory()
    products = [_product() for _ in range(3)]
    favorite_toggle(user=user, product=products[0])
    wishlist_toggle(user=user, product=products[2])
    with django_assert_num_queries(2):
        state = saved_state(user=user, product_ids=[p.pk for p in products])
    assert state == {
        products[0].pk: (True, False),
        products[1].pk: (False, False),
        products[2].pk: (False, True),
    }


def test_the_save_buttons_toggle_in_place_only_for_a_verified_user_who_is_not_the_seller():
    product = _product()
    fan = UserFactory()
    favorite_toggle(user=fan, product=product)
    assert save_buttons_state(user=fan, product=product) == {
        "is_favorite": True,
        "in_wishlist": False,
        "can_save": True,
    }
    for user in (product.seller, UserFactory(verified=False), AnonymousUser()):
        assert save_buttons_state(user=user, product=product) == {
            "is_favorite": False,
            "in_wishlist": False,
            "can_save": False,
        }


# --- toggle views -----------------------------------------------------------------
def test_the_toggle_without_js_redirects_back_with_a_message(client):
    user, product = UserFactory(), _product(title="Gear Clock")
    client.force_login(user)
    url = reverse("social:wishlist-toggle", kwargs={"product_pk": product.pk})
    response = client.post(url, {"next": product.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert _messages(response) == ["“Gear Clock” is on your wishlist."]
    assert list(WishlistItem.objects.values_list("user", "product")) == [(user.pk, product.pk)]
    off = client.post(url, {"next": "https://evil.example/"})
    assert off["Location"] == product.get_absolute_url()  # an outside `next` is ignored
    assert WishlistItem.objects.count() == 0


def test_the_htmx_toggle_answers_the_rerendered_buttons(client):
    user, product = UserFactory(), _product()
    client.force_login(user)
    response = client.post(
        reverse("social:favorite-toggle", kwargs={"product_pk": product.pk}),
        {"next": product.get_absolute_url()},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="save-buttons"') and "<html" not in html
    assert 'aria-pressed="true"' in html and "Favorited" in html
    assert 'aria-pressed="false"' in html and "In wishlist" not in html  # wishlist is off
    assert f'value="{product.get_absolute_url()}"' in html  # keeps the page to come back to
    assert 'hx-post="' in html and 'hx-swap="outerHTML"' in html
    assert Favorite.objects.filter(user=user, product=product).count() == 1
    assert _messages(response) == []  # no flash left for the next page


def test_guests_are_sent_to_log_in_and_unverified_users_get_403(client):
    product = _product()
    url = reverse("social:favorite-toggle", kwargs={"product_pk": product.pk})
    plain = client.post(url)
    assert plain.status_code == 302 and plain["Location"].startswith(reverse("account_login"))
    htmx = client.post(url, {"next": product.get_absolute_url()}, headers=HTMX)
    assert htmx["HX-Redirect"].startswith(reverse("account_login") + "?next=")
    client.force_login(UserFactory(verified=False))
    assert client.post(url).status_code == 403
    assert Favorite.objects.count() == 0


def test_a_hidden_listing_nobody_saved_is_404(client):
    product = _product(status="DRAFT")
    client.force_login(UserFactory())
    url = reverse("social:favorite-toggle", kwargs={"product_pk": product.pk})
    assert client.post(url).status_code == 404
    assert Favorite.objects.count() == 0


# --- saved page --------------------------------------------------------------------
def test_the_saved_page_lists_favorites_and_wishlist_in_their_sections(client):
    # given
    user = UserFactory()
    liked, wanted, both = (
        _product(title="Liked Lamp"),
        _product(title="Wanted Vase"),
        _product(title="Both Bowl"),
    )
    hidden = _product(title="Hidden Hook")
    for product in (liked, both, hidden):
        favorite_toggle(user=user, product=product)
    for product in (wanted, both):
        wishlist_toggle(user=user, product=product)
    Product.objects.filter(pk=hidden.pk).update(status="ARCHIVED")
    client.force_login(user)
    # when
    response = client.get(reverse("social:saved"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    wishlist_part, favorites_part = html.split('id="favorites"')
    assert "Wanted Vase" in wishlist_part and "Both Bowl" in wishlist_part
    assert "Liked Lamp" not in wishlist_part
    assert "Liked Lamp" in favorites_part and "Both Bowl" in favorites_part
    assert "Wanted Vase" not in favorites_part and "Hidden Hook" not in html
    assert html.count("Move to cart") == 2
    saved = saved_lists_for_user(user=user)
    assert [p.title for p in saved.favorites] == ["Both Bowl", "Liked Lamp"]  # newest first


def test_the_saved_page_needs_a_login(client):
    response = client.get(reverse("social:saved"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_saved_page_queries_do_not_grow_with_the_number_of_items(
    client, django_assert_max_num_queries
):
    user = UserFactory()
    client.force_login(user)

    def save(n):
        for _ in range(n):
            product = _product()
            favorite_toggle(user=user, product=product)
            wishlist_toggle(user=user, product=product)

    save(3)
    # (16: a signed-in page also reads the legal versions in force, once per request)
    with django_assert_max_num_queries(16) as ctx:
        assert client.get(reverse("social:saved")).status_code == 200
    few = len(ctx.captured_queries)
    save(7)
    with django_assert_max_num_queries(few):
        response = client.get(reverse("social:saved"))
    assert response.content.decode().count("Move to cart") == 10


# --- move to cart ------------------------------------------------------------------
def test_move_to_cart_puts_it_in_the_session_cart_and_off_the_wishlist(client):
    user, product = UserFactory(), _product(title="Dice Tower")
    wishlist_toggle(user=user, product=product)
    client.force_login(user)
    response = client.post(
        reverse("orders:wishlist-move-to-cart", kwargs={"product_pk": product.pk})
    )
    assert response.status_code == 302 and response["Location"] == reverse("social:saved")
    assert client.session[SESSION_CART_KEY] == {str(product.pk): 1}
    assert WishlistItem.objects.count() == 0
    assert _messages(response) == ["“Dice Tower” moved to your cart."]


def test_move_to_cart_refuses_what_can_buy_refuses_and_keeps_the_wishlist_item(client):
    # given: the seller cannot take payments yet
    user, product = UserFactory(), _product(title="Cable Clip", seller_ready=False)
    wishlist_toggle(user=user, product=product)
    client.force_login(user)
    # when
    response = client.post(
        reverse("orders:wishlist-move-to-cart", kwargs={"product_pk": product.pk})
    )
    # then
    assert response.status_code == 302
    assert _messages(response) == ["“Cable Clip”: The seller is not set up to take payments yet."]
    assert client.session.get(SESSION_CART_KEY, {}) == {}
    assert WishlistItem.objects.filter(user=user, product=product).count() == 1


def test_move_to_cart_of_something_not_on_the_wishlist_is_refused():
    user, product = UserFactory(), _product(physical=True)
    with pytest.raises(ApplicationError, match="not in your wishlist"):
        wishlist_move_to_cart(user=user, product=product, cart={})
    wishlist_toggle(user=user, product=product)
    assert wishlist_move_to_cart(user=user, product=product, cart={"7": 1}) == {
        "7": 1,
        str(product.pk): 1,
    }
