"""Reviews, seller replies, favorites and the wishlist (URL namespace "social").

Every view states who may use it; objects are looked up scoped to the requester. Rules
live in catalog.reviews / catalog.favorites; views turn ApplicationError into a form
error (4xx) or a flash message.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View

from catalog.favorites import (
    favorite_toggle,
    product_get_saveable,
    save_buttons_state,
    saved_lists_for_user,
    wishlist_toggle,
)
from catalog.models import Product, Review, ReviewReply
from catalog.reviews import (
    review_delete,
    review_eligibility,
    review_get_for_author,
    review_reply_upsert,
    review_upsert,
)
from catalog.selectors import PUBLIC
from catalog.trending import annotate_trending_badge
from marketplace.access import (
    ActiveAccountRequiredMixin,
    SellerRequiredMixin,
    VerifiedEmailRequiredMixin,
)
from marketplace.exceptions import ApplicationError
from marketplace.http import safe_next_url
from marketplace.ratelimits import rate_limit


# ------------------------------------------------------------------------------
# Forms: input shape only; the rules are in the services.
# ------------------------------------------------------------------------------
class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        coerce=int,
        choices=[
            (5, "★★★★★ Excellent"),
            (4, "★★★★ Good"),
            (3, "★★★ Okay"),
            (2, "★★ Poor"),
            (1, "★ Bad"),
        ],
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label="Your review",
        min_length=Review.BODY_MIN_LENGTH,
        max_length=Review.BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What did you print or receive, and how did it turn out? At least 10 characters.",
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your public reply",
        max_length=ReviewReply.BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# ------------------------------------------------------------------------------
# Reviews
# ------------------------------------------------------------------------------
def _public_product(pk: int) -> Product:
    product = (
        Product.objects.filter(PUBLIC)
        .select_related("seller__seller_profile", "cover_image")
        .filter(pk=pk)
        .first()
    )
    if product is None:
        raise Http404("No such listing.")
    return product


class ReviewEditView(ActiveAccountRequiredMixin, View):
    """Verified users who bought the product (or downloaded it free): write or edit their
    one review. Anyone else signed in gets a 403 page saying why."""

    def _render(self, request, product, my_review, form, *, status=200, reason=""):
        return render(
            request,
            "catalog/review_form.html",
            {
                "mode": "review",
                "p": product,
                "form": form,
                "my_review": my_review,
                "reason": reason,
            },
            status=status,
        )

    def get(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = _public_product(product_pk)
        mine = review_get_for_author(product=product, author=request.user)
        reason = review_eligibility(product=product, user=request.user)
        if reason:
            return self._render(request, product, mine, None, status=403, reason=reason)
        initial = {"rating": mine.rating, "body": mine.body} if mine else {}
        return self._render(request, product, mine, ReviewForm(initial=initial))

    @method_decorator(rate_limit(group="review", rates=("REVIEW_RATE", "REVIEW_RATE_IP")))
    def post(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = _public_product(product_pk)
        mine = review_get_for_author(product=product, author=request.user)
        reason = review_eligibility(product=product, user=request.user)
        if reason:
            return self._render(request, product, mine, None, status=403, reason=reason)
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                review_upsert(product=product, author=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    "Your review was updated." if mine else "Thank you: your review is live.",
                )
                return redirect(product.get_absolute_url() + "#reviews")
        return self._render(request, product, mine, form, status=400)


class ReviewDeleteView(VerifiedEmailRequiredMixin, View):
    """POST: the author deletes their own review. Anyone else's review is a 404."""

    @method_decorator(rate_limit(group="review", rates=("REVIEW_RATE", "REVIEW_RATE_IP")))
    def post(self, request: HttpRequest, review_pk: int) -> HttpResponse:
        review = (
            Review.objects.select_related("product")
            .filter(pk=review_pk, author=request.user)
            .first()
        )
        if review is None:
            raise Http404("No such review.")
        try:
            review_delete(review=review, author=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your review was deleted.")
        return redirect(review.product.get_absolute_url() + "#reviews")


class ReviewReplyView(ActiveAccountRequiredMixin, SellerRequiredMixin, View):
    """The product's seller: post or edit their one public reply to a review. Reviews of
    other sellers' listings are a 404."""

    @method_decorator(rate_limit(group="review", rates=("REVIEW_RATE", "REVIEW_RATE_IP")))
    def post(self, request: HttpRequest, review_pk: int) -> HttpResponse:
        review = (
            Review.objects.select_related("product__seller__seller_profile", "author")
            .filter(pk=review_pk, product__seller=request.user, is_hidden=False)
            .first()
        )
        if review is None:
            raise Http404("No such review.")
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                review_reply_upsert(review=review, seller=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error("body", exc.message)
            else:
                messages.success(request, "Your reply is public.")
                return redirect(f"{review.product.get_absolute_url()}#review-{review.pk}")
        return render(
            request,
            "catalog/review_form.html",
            {"mode": "reply", "p": review.product, "review": review, "form": form},
            status=400,
        )


# ------------------------------------------------------------------------------
# Favorites and wishlist
# ------------------------------------------------------------------------------
class _HtmxLoginMixin:
    """htmx follows a redirect and would swap the login page into the button: send a
    signed-out visitor's htmx request to the login page with HX-Redirect instead."""

    def dispatch(self, request, *args, **kwargs):
        if _is_htmx(request) and not request.user.is_authenticated:
            back = safe_next_url(request, "/")
            response = HttpResponse(status=200)
            response["HX-Redirect"] = redirect_to_login(back).url
            return response
        return super().dispatch(request, *args, **kwargs)


class _SaveToggleView(_HtmxLoginMixin, VerifiedEmailRequiredMixin, View):
    """Verified users. POST: with htmx, answer the re-rendered buttons; without, redirect
    back with a message."""

    toggle = None
    on_message = off_message = ""

    @method_decorator(rate_limit(group="favorite", rates=("FAVORITE_RATE", "FAVORITE_RATE_IP")))
    def post(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = product_get_saveable(user=request.user, pk=product_pk)
        if product is None:
            raise Http404("No such listing.")
        back = safe_next_url(request, product.get_absolute_url())
        error, now_on = "", False
        try:
            now_on = self.toggle(user=request.user, product=product)
        except ApplicationError as exc:
            error = exc.message
        if _is_htmx(request):
            return render(
                request,
                "catalog/partials/favorite_buttons.html",
                {
                    "p": product,
                    # VerifiedEmailRequiredMixin let this request in.
                    **save_buttons_state(user=request.user, product=product, verified=True),
                    "next": back,
                    "save_error": error,
                },
            )
        if error:
            messages.error(request, error)
        else:
            template = self.on_message if now_on else self.off_message
            messages.success(request, template.format(title=product.title))
        return redirect(back)


class FavoriteToggleView(_SaveToggleView):
    toggle = staticmethod(favorite_toggle)
    on_message = "“{title}” is in your favorites."
    off_message = "“{title}” is no longer in your favorites."


class WishlistToggleView(_SaveToggleView):
    toggle = staticmethod(wishlist_toggle)
    on_message = "“{title}” is on your wishlist."
    off_message = "“{title}” is off your wishlist."


class SavedListView(VerifiedEmailRequiredMixin, View):
    """Verified users: their favorites and wishlist on one page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        saved = saved_lists_for_user(user=request.user)
        return render(
            request,
            "catalog/favorites.html",
            {
                "favorites": annotate_trending_badge(saved.favorites),
                "wishlist": annotate_trending_badge(saved.wishlist),
            },
        )
