"""Favorites (liked) and the wishlist (to buy later): services and selectors.

Two separate lists on one "Saved" page. Only verified accounts save (the views use
VerifiedEmailRequiredMixin); you cannot save your own listing. Removing always works,
even once a listing is gone from the public catalog.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from catalog.models import Favorite, Product, WishlistItem
from catalog.selectors import PUBLIC, annotate_buyability, product_queryset_public
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import seller_is_listed, user_has_verified_email


# ------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------
def _check_can_save(*, user: User, product: Product) -> None:
    if product.seller_id == user.pk:
        raise ApplicationError("This is your own listing.")
    if not (product.is_public and seller_is_listed(product.seller)):
        raise ApplicationError("This listing is not available.")


@transaction.atomic
def _toggle(model, *, user: User, product: Product) -> bool:
    deleted, _ = model.objects.filter(user=user, product=product).delete()
    if deleted:
        return False
    _check_can_save(user=user, product=product)
    model.objects.get_or_create(user=user, product=product)
    return True


def favorite_toggle(*, user: User, product: Product) -> bool:
    """Favorite `product`, or un-favorite it if it already is. Returns: favorited now?"""
    return _toggle(Favorite, user=user, product=product)


def wishlist_toggle(*, user: User, product: Product) -> bool:
    """Add `product` to the wishlist, or take it off. Returns: in the wishlist now?"""
    return _toggle(WishlistItem, user=user, product=product)


# ------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------
def saved_state(*, user: User, product_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    """{product_id: (is_favorite, in_wishlist)}: one query per list (none for guests)."""
    if not user.is_authenticated or not product_ids:
        return {pk: (False, False) for pk in product_ids}
    favorites = set(
        Favorite.objects.filter(user=user, product_id__in=product_ids).values_list(
            "product_id", flat=True
        )
    )
    wishlist = set(
        WishlistItem.objects.filter(user=user, product_id__in=product_ids).values_list(
            "product_id", flat=True
        )
    )
    return {pk: (pk in favorites, pk in wishlist) for pk in product_ids}


def save_buttons_state(*, user: User, product: Product, verified: bool | None = None) -> dict:
    """What catalog/partials/favorite_buttons.html needs for `product`: `is_favorite`,
    `in_wishlist` and `can_save` (a verified account that is not the seller: the buttons
    then toggle in place with htmx). Pass `verified` when the caller already knows it."""
    if verified is None:
        verified = user.is_authenticated and user_has_verified_email(user)
    is_favorite, in_wishlist = saved_state(user=user, product_ids=[product.pk])[product.pk]
    return {
        "is_favorite": is_favorite,
        "in_wishlist": in_wishlist,
        "can_save": verified and product.seller_id != user.pk,
    }


def product_get_saveable(*, user: User, pk: int) -> Product | None:
    """The product at `pk` if `user` may save it (public) or has it saved (to remove
    it); None otherwise, so a hidden listing someone never saved stays a 404."""
    return (
        Product.objects.select_related("seller")
        .filter(pk=pk)
        .filter(
            PUBLIC
            | Exists(Favorite.objects.filter(user=user, product=OuterRef("pk")))
            | Exists(WishlistItem.objects.filter(user=user, product=OuterRef("pk")))
        )
        .first()
    )


@dataclass(frozen=True)
class SavedLists:
    favorites: list[Product]
    wishlist: list[Product]


def _saved(relation: str, *, user: User) -> list[Product]:
    products = (
        product_queryset_public()
        .filter(**{f"{relation}__user": user})
        .annotate(saved_at=F(f"{relation}__created_at"))
        .order_by("-saved_at", "-pk")
    )
    return annotate_buyability(products, user=user)


def saved_lists_for_user(*, user: User) -> SavedLists:
    """The user's favorites and wishlist, newest saved first, as public listings with
    what a product card needs (`can_buy` included): two queries whatever the count.
    Listings no longer public are left out until they come back."""
    return SavedLists(
        favorites=_saved("favorites", user=user), wishlist=_saved("wishlist_items", user=user)
    )
