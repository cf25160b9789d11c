"""What the catalog needs to know from apps above it, without importing them.

Apps above catalog (orders, downloads, moderation, analytics) register a function here
in their `AppConfig.ready()`; catalog calls it through the functions below. With nothing
registered each call does nothing or gives the neutral answer (no event recorded, no
download right, zero metrics, no review evidence, no report form), so catalog works on
its own and never imports a higher app. Registration is idempotent; hooks run in
registration order, which is `INSTALLED_APPS` order (lower layers first).

| hook | registered by | catalog uses it for |
| --- | --- | --- |
| engagement | analytics | a click or add-to-cart signal (orders' cart, the wishlist) |
| product view | analytics | the throttled VIEW (and CLICK from a card) on the product page |
| search miss | analytics | counting searches with no results |
| download entitlement | downloads | the product page's "Download" button |
| file purchased | orders | "You already own this file" instead of "Add to cart" |
| listing metrics | orders, downloads | the seller's listings table (units sold, downloads) |
| review evidence | orders, downloads | who may review: a paid line, or a free download |
| review reports | moderation | the report form and "you reported this" on reviews |
| product questions | messaging | the product page's "Questions & answers" section |
| open reports | moderation | staff-only badges: open reports on a listing and its Q&A |
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ADD_TO_CART = "ADD_TO_CART"  # engagement kinds catalog's callers send (analytics' names)

_engagement: list[Callable[..., Any]] = []
_product_view: list[Callable[..., Any]] = []
_search_miss: list[Callable[..., Any]] = []
_download_entitlement: list[Callable[..., bool]] = []
_file_purchased: list[Callable[..., bool]] = []
_listing_metrics: list[Callable[[list[int]], dict[int, dict[str, int]]]] = []
_review_evidence: list[Callable[..., "ReviewEvidence | None"]] = []
_review_reports: list[Callable[..., "ReviewReports"]] = []
_open_reports: list[Callable[..., dict[str, int]]] = []


def _add(registry: list, fn: Callable) -> Callable:
    if fn not in registry:
        registry.append(fn)
    return fn


# ------------------------------------------------------------------------------
# Engagement signals (analytics)
# ------------------------------------------------------------------------------
def register_engagement(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, product_id, kind, user, session_key, client_ip, user_agent)`: record one
    signal, best-effort, deduplicated per person and product a day and bot-filtered."""
    return _add(_engagement, fn)


def engagement_record(
    *,
    product_id: int,
    kind: str,
    user,
    session_key: str = "",
    client_ip: str = "",
    user_agent: str | None = None,
) -> None:
    for fn in _engagement:
        fn(
            product_id=product_id,
            kind=kind,
            user=user,
            session_key=session_key,
            client_ip=client_ip,
            user_agent=user_agent,
        )


def register_product_view(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, product_id, seller_id, user, session_key, user_agent, client_ip, source,
    query)`: a product page view; `source`/`query` say which card grid (and search) it
    came from."""
    return _add(_product_view, fn)


def product_view_record(
    *,
    product_id: int,
    seller_id: int,
    user,
    session_key: str,
    user_agent: str,
    client_ip: str = "",
    source: str = "",
    query: str = "",
) -> None:
    for fn in _product_view:
        fn(
            product_id=product_id,
            seller_id=seller_id,
            user=user,
            session_key=session_key,
            user_agent=user_agent,
            client_ip=client_ip,
            source=source,
            query=query,
        )


def register_search_miss(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, query)`: a search that found nothing."""
    return _add(_search_miss, fn)


def search_miss_record(*, query: str) -> None:
    for fn in _search_miss:
        fn(query=query)


# ------------------------------------------------------------------------------
# Downloads and sales (downloads, orders)
# ------------------------------------------------------------------------------
def register_download_entitlement(fn: Callable[..., bool]) -> Callable[..., bool]:
    """`fn(*, product, user) -> bool`: may `user` download `product`'s files now?"""
    return _add(_download_entitlement, fn)


def product_download_entitled(*, product, user) -> bool:
    return any(fn(product=product, user=user) for fn in _download_entitlement)


def register_file_purchased(fn: Callable[..., bool]) -> Callable[..., bool]:
    """`fn(product=, user=) -> bool`: has `user` already bought this FILE listing?"""
    return _add(_file_purchased, fn)


def product_file_purchased(*, product, user) -> bool:
    return any(fn(product=product, user=user) for fn in _file_purchased)


def register_listing_metrics(
    fn: Callable[[list[int]], dict[int, dict[str, int]]],
) -> Callable[[list[int]], dict[int, dict[str, int]]]:
    """`fn(product_ids) -> {product_id: {attribute: value}}`, in a constant number of
    queries: columns of the seller's listings table (`units_sold_net`,
    `downloads_unique`)."""
    return _add(_listing_metrics, fn)


def listing_metrics(product_ids: list[int]) -> dict[int, dict[str, int]]:
    metrics: dict[int, dict[str, int]] = {}
    for fn in _listing_metrics:
        for product_id, values in fn(product_ids).items():
            metrics.setdefault(product_id, {}).update(values)
    return metrics


# ------------------------------------------------------------------------------
# Reviews (orders, downloads, moderation)
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewEvidence:
    """First-hand use of a product: a paid order line (`order_item_id`) or a free
    download (`order_item_id` None)."""

    order_item_id: int | None = None


def register_review_evidence(fn: Callable[..., ReviewEvidence | None]) -> Callable[..., Any]:
    """`fn(*, product, user) -> ReviewEvidence | None`: has `user` bought or downloaded
    `product` in a way that lets them review it? The first answer wins."""
    return _add(_review_evidence, fn)


def review_evidence(*, product, user) -> ReviewEvidence | None:
    for fn in _review_evidence:
        evidence = fn(product=product, user=user)
        if evidence is not None:
            return evidence
    return None


@dataclass(frozen=True)
class ReviewReports:
    """What the reviews section shows about reports: the reasons a report may give, and
    the reviews `user` already has an open report of."""

    reasons: list[tuple[str, str]]
    reported_review_ids: frozenset[int]


def register_review_reports(fn: Callable[..., ReviewReports]) -> Callable[..., Any]:
    """`fn(*, product, user) -> ReviewReports`. Without it, reviews have no report form."""
    return _add(_review_reports, fn)


def review_reports(*, product, user) -> ReviewReports | None:
    for fn in _review_reports:
        return fn(product=product, user=user)
    return None


def register_open_reports(fn: Callable[..., dict[str, int]]) -> Callable[..., Any]:
    """`fn(*, product_id) -> {"listing": n, "qa": m}`: open reports on a listing and on
    its questions and answers (staff badges on the product page)."""
    return _add(_open_reports, fn)


def product_open_reports(*, product_id: int) -> dict[str, int]:
    """Staff badges' counts; {} when nothing is registered or nothing is open."""
    for fn in _open_reports:
        return fn(product_id=product_id)
    return {}


_review_request: list[Callable[..., Any]] = []


def register_review_request(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, order_id)`: send the review-request email of a paid order (orders owns the
    order and its emails; catalog only schedules it)."""
    return _add(_review_request, fn)


def review_request_send(*, order_id: int):
    for fn in _review_request:
        return fn(order_id=order_id)
    return None


# ------------------------------------------------------------------------------
# Questions and answers (messaging)
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductQuestions:
    """The product page's Q&A section, rendered by the app that owns it: the page
    includes `template_name` with `context` as `qa`. Built in a constant number of
    queries whatever the number of questions."""

    template_name: str
    context: dict


_product_questions: list[Callable[..., ProductQuestions]] = []


def register_product_questions(fn: Callable[..., ProductQuestions]) -> Callable[..., Any]:
    """`fn(*, product, user, page) -> ProductQuestions`. Without it, the section says
    there are no questions yet."""
    return _add(_product_questions, fn)


def product_questions(*, product, user, page) -> ProductQuestions | None:
    for fn in _product_questions:
        return fn(product=product, user=user, page=page)
    return None
