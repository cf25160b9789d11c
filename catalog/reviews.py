"""Reviews and seller replies: services (writes) and selectors (reads) in one module.

Who may review: a verified account that is not the seller and either bought the product
on a PAID order whose line is not refunded, or downloaded it as a free file. One review
per author and product, editable. `Product.rating_count` / `rating_sum` cache the
visible reviews: every write that changes them locks the product row and moves them by
the exact delta with F(), so they never drift (create +1/+rating, edit +0/+(new - old),
hide -1/-rating, unhide +1/+rating, the author's delete -1/-rating).

What a review needs from higher apps reaches it through `catalog.hooks`: the evidence of
first-hand use (orders: a paid line; downloads: a free download), the report form and
state (moderation, which also owns `review_report`), and the review-request email
(orders, which owns the order it is about).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, F, Q, Sum

from catalog import hooks
from catalog.models import Product, Review, ReviewReply
from catalog.tasks_social import review_request_send_task
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import seller_is_listed, user_has_verified_email

REVIEW_REQUEST_DEFAULT_DELAY_SECONDS = 7 * 24 * 3600
REVIEWS_PER_PAGE = 10
# ?review_sort= values, in the order the page offers them; ties go newest first.
REVIEW_SORTS = {
    "newest": ("Newest", ("-created_at", "-id")),
    "highest": ("Highest rated", ("-rating", "-created_at", "-id")),
    "lowest": ("Lowest rated", ("rating", "-created_at", "-id")),
}
REPLY_MIN_LENGTH = 2


# ------------------------------------------------------------------------------
# Eligibility
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Eligibility:
    reason: str  # "" when the user may review
    order_item_id: int | None = None


def _eligibility(*, product: Product, user: User, verified: bool | None = None) -> _Eligibility:
    if not user.is_authenticated:
        return _Eligibility("Sign in to review this listing.")
    if verified is None:
        verified = user_has_verified_email(user)
    if not verified:
        return _Eligibility("Verify your email address to write reviews.")
    if product.seller_id == user.pk:
        return _Eligibility("You cannot review your own listing.")
    if not product.is_public or not seller_is_listed(product.seller):
        return _Eligibility("This listing cannot be reviewed.")
    # A paid, unrefunded order line (orders), else a free download (downloads): both are
    # first-hand use.
    evidence = hooks.review_evidence(product=product, user=user)
    if evidence is not None:
        return _Eligibility("", order_item_id=evidence.order_item_id)
    if product.kind == Product.Kind.FILE and product.is_free:
        return _Eligibility("Download this file first: reviews come from people who have it.")
    return _Eligibility("Only buyers of this listing can review it.")


def review_eligibility(*, product: Product, user: User) -> str:
    """Why `user` may not write (or edit) a review of `product`, or "" if they may."""
    return _eligibility(product=product, user=user).reason


# ------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------
def _lock_product(product_id: int) -> None:
    # Every write that moves the aggregates takes this lock first: one order, no deadlock.
    list(Product.objects.select_for_update().filter(pk=product_id).values_list("pk"))


def _adjust_rating(product_id: int, *, count: int, total: int) -> None:
    if count or total:
        Product.objects.filter(pk=product_id).update(
            rating_count=F("rating_count") + count, rating_sum=F("rating_sum") + total
        )


def _clean_body(body: str, *, minimum: int, maximum: int, what: str) -> str:
    body = (body or "").strip()
    if len(body) < minimum:
        raise ApplicationError(f"Write at least {minimum} characters in your {what}.")
    if len(body) > maximum:
        raise ApplicationError(f"Keep your {what} under {maximum} characters.")
    return body


@transaction.atomic
def review_upsert(*, product: Product, author: User, rating: int, body: str) -> Review:
    """Create `author`'s review of `product`, or edit it if they already wrote one.

    Refuses (ApplicationError) anyone `review_eligibility` refuses. The product row is
    locked, so concurrent writes (even two first reviews by the same author) serialize
    and the aggregates move by the exact delta. Editing a hidden review keeps it hidden
    and out of the aggregates.
    """
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ApplicationError("Choose a rating from 1 to 5 stars.")
    if not Review.RATING_MIN <= rating <= Review.RATING_MAX:
        raise ApplicationError("Choose a rating from 1 to 5 stars.")
    body = _clean_body(
        body, minimum=Review.BODY_MIN_LENGTH, maximum=Review.BODY_MAX_LENGTH, what="review"
    )
    _lock_product(product.pk)
    product = Product.objects.select_related("seller").get(pk=product.pk)
    eligibility = _eligibility(product=product, user=author)
    if eligibility.reason:
        raise ApplicationError(eligibility.reason)
    review = Review.objects.filter(product=product, author=author).first()
    if review is None:
        review = Review(product=product, author=author)
        count, old_rating = 1, 0
    else:
        count, old_rating = 0, review.rating
    review.rating = rating
    review.body = body
    review.is_verified_purchase = True
    if eligibility.order_item_id is not None:
        review.order_item_id = eligibility.order_item_id
    review.full_clean()
    review.save()
    if not review.is_hidden:
        _adjust_rating(product.pk, count=count, total=rating - old_rating)
    return review


@transaction.atomic
def review_set_hidden(*, review: Review, hidden: bool) -> Review:
    """Moderation hides (or restores) a review; the aggregates follow. Idempotent."""
    _lock_product(review.product_id)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.is_hidden == hidden:
        return review
    review.is_hidden = hidden
    # Not `updated_at`: hiding is not the author's edit.
    review.save(update_fields=["is_hidden"])
    sign = -1 if hidden else 1
    _adjust_rating(review.product_id, count=sign, total=sign * review.rating)
    return review


@transaction.atomic
def review_delete(*, review: Review, author: User) -> None:
    """The author deletes their own review (and the seller's reply to it); a visible
    one leaves the aggregates by its exact delta, under the product row lock.

    A review our moderators hid cannot be deleted: deleting it would let its author
    write a fresh, visible one in its place.
    """
    _lock_product(review.product_id)
    review = Review.objects.select_for_update().filter(pk=review.pk).first()
    if review is None or review.author_id != author.pk:
        raise ApplicationError("You can only delete your own review.")
    if review.is_hidden:
        raise ApplicationError(
            "Our moderators removed this review; it is no longer shown or counted."
        )
    product_id, rating = review.product_id, review.rating
    review.delete()
    _adjust_rating(product_id, count=-1, total=-rating)


@transaction.atomic
def product_rating_recount(*, product_id: int) -> tuple[int, int]:
    """Recompute `rating_count`/`rating_sum` from the visible reviews (ops repair; the
    services above keep them exact). Returns the new (count, sum)."""
    _lock_product(product_id)
    totals = Review.objects.filter(product_id=product_id, is_hidden=False).aggregate(
        count=Count("pk"), total=Sum("rating")
    )
    count, total = totals["count"], totals["total"] or 0
    Product.objects.filter(pk=product_id).update(rating_count=count, rating_sum=total)
    return count, total


@transaction.atomic
def review_reply_upsert(*, review: Review, seller: User, body: str) -> ReviewReply:
    """The product's seller answers a review publicly: one reply per review, editable."""
    body = _clean_body(
        body, minimum=REPLY_MIN_LENGTH, maximum=ReviewReply.BODY_MAX_LENGTH, what="reply"
    )
    review = Review.objects.select_for_update().select_related("product").get(pk=review.pk)
    if review.product.seller_id != seller.pk:
        raise ApplicationError("Only the seller of this listing can reply to its reviews.")
    if review.is_hidden:
        raise ApplicationError("This review was removed by our moderators.")
    reply = ReviewReply.objects.filter(review=review).first() or ReviewReply(
        review=review, seller=seller
    )
    reply.body = body
    reply.full_clean()
    reply.save()
    return reply


# ------------------------------------------------------------------------------
# Review-request email, some days after payment
# ------------------------------------------------------------------------------
def review_request_delay_seconds() -> int:
    return int(
        getattr(settings, "REVIEW_REQUEST_DELAY_SECONDS", REVIEW_REQUEST_DEFAULT_DELAY_SECONDS)
    )


def review_request_schedule(*, order_id: int) -> None:
    """Queue the review-request email for a paid order, `REVIEW_REQUEST_DELAY_SECONDS`
    (default 7 days) from now, after the current transaction commits."""
    delay = review_request_delay_seconds()
    transaction.on_commit(
        lambda: review_request_send_task.apply_async((order_id,), countdown=delay)
    )


def review_request_send(*, order_id: int):
    """Email the buyer of a paid order once about the products they can still review
    (`orders.reviews.order_review_request_send`, registered as catalog's review-request
    hook). Returns the email's log row, or None when nothing was sent."""
    return hooks.review_request_send(order_id=order_id)


# ------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------
def _author_display(user: User) -> str:
    """The display name the author chose on their profile, else "Ada L." from the account's
    name; "Deleted user" once the account is deleted; never any part of the email address."""
    if user.deleted_at is not None:
        return "Deleted user"
    if user.display_name:
        return user.display_name
    parts = (user.name or "").split()
    if not parts:
        return "Verified buyer"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


def _decorate(review: Review) -> Review:
    review.author_display = _author_display(review.author)
    review.was_edited = review.updated_at - review.created_at > timedelta(minutes=1)
    try:
        review.public_reply = review.reply
    except ReviewReply.DoesNotExist:
        review.public_reply = None
    return review


def _visible_reviews(product: Product, *, sort: str = "newest"):
    order = REVIEW_SORTS.get(sort, REVIEW_SORTS["newest"])[1]
    return (
        Review.objects.filter(product=product, is_hidden=False)
        .select_related("author", "reply")
        .order_by(*order)
    )


def reviews_for_product(
    product: Product, *, sort: str = "newest", limit: int | None = None
) -> list[Review]:
    """The visible reviews of `product` in `sort` order (see REVIEW_SORTS), with author
    and seller reply, in one query; each carries `author_display`, `was_edited` and
    `public_reply`."""
    reviews = _visible_reviews(product, sort=sort)
    if limit is not None:
        reviews = reviews[:limit]
    return [_decorate(review) for review in reviews]


def reviews_page(
    product: Product, *, sort: str = "newest", page=1, per_page: int = REVIEWS_PER_PAGE
) -> Page:
    """One page of `reviews_for_product`. A page number past the end gives the last
    page, anything not a number the first (Paginator.get_page)."""
    paginator = Paginator(_visible_reviews(product, sort=sort), per_page)
    result = paginator.get_page(page)
    result.object_list = [_decorate(review) for review in result.object_list]
    return result


def review_distribution(product: Product) -> list[dict]:
    """How many visible reviews gave each rating, 5★ first: [{stars, count, percent}]
    (percent of the visible reviews, rounded, for the bars). One query."""
    counts = Review.objects.filter(product=product, is_hidden=False).aggregate(
        **{
            f"s{stars}": Count("pk", filter=Q(rating=stars))
            for stars in range(Review.RATING_MAX, Review.RATING_MIN - 1, -1)
        }
    )
    total = sum(counts.values())
    return [
        {
            "stars": stars,
            "count": counts[f"s{stars}"],
            "percent": round(100 * counts[f"s{stars}"] / total) if total else 0,
        }
        for stars in range(Review.RATING_MAX, Review.RATING_MIN - 1, -1)
    ]


def review_get_for_author(*, product: Product, author: User) -> Review | None:
    """`author`'s one review of `product` (hidden or not), with its reply, or None."""
    if not author.is_authenticated:
        return None
    return (
        Review.objects.filter(product=product, author=author)
        .select_related("author", "reply")
        .first()
    )


def product_reviews_context(*, product: Product, user: User, sort: str = "newest", page=1) -> dict:
    """What the product page's reviews section and save buttons need; merge it into
    ProductDetailView's context. Each review carries what `user` may do with it:
    `can_reply` (the listing's seller), `can_report` (anyone signed in but its author)
    and `is_reported` (they already have an open report of it). `sort` (a REVIEW_SORTS
    key; anything else is "newest") and `page` pick the page of reviews shown."""
    from catalog.favorites import save_buttons_state

    verified = user_has_verified_email(user) if user.is_authenticated else False
    eligibility = _eligibility(product=product, user=user, verified=verified)
    my_review = review_get_for_author(product=product, author=user)
    if my_review is not None:
        _decorate(my_review)
    reports = hooks.review_reports(product=product, user=user)  # moderation's, if installed
    reported = reports.reported_review_ids if reports else frozenset()
    is_seller = user.is_authenticated and product.seller_id == user.pk
    if sort not in REVIEW_SORTS:
        sort = "newest"
    page_obj = reviews_page(product, sort=sort, page=page)
    reviews = page_obj.object_list
    for review in reviews:
        review.can_reply = is_seller
        review.can_report = (
            reports is not None and user.is_authenticated and review.author_id != user.pk
        )
        review.is_reported = review.pk in reported
    average = product.rating_average
    return {
        "reviews": reviews,
        "reviews_page": page_obj,
        "review_sort": sort,
        "review_sorts": [(key, label) for key, (label, _) in REVIEW_SORTS.items()],
        "review_distribution": review_distribution(product) if product.rating_count else [],
        "review_eligibility": eligibility.reason,
        "my_review": my_review,
        "review_stars": int(average + 0.5) if average is not None else 0,
        "report_reasons": reports.reasons if reports else [],
        **save_buttons_state(user=user, product=product, verified=verified),
    }
