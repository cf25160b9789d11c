"""What shipping costs: the one rule, read from a seller's shipping profiles.

`seller_shipping_quote(lines=[(product, quantity), ...], country="CA")` prices one
seller's printed items for one destination (docs/LEDGER.md, "Shipping"):

1. Each listing's profile gives a rate for the country: the country's own row, else the
   profile's "everywhere else" row (blank country), else the listing does not ship there
   (that line is `unavailable`, with the reason, and is left out of the price).
2. A line whose profile offers free shipping over an amount ships free when the seller's
   printed items that do ship add up (price × quantity) to at least that amount.
3. Of the units left, the one with the highest first-item rate pays that rate; every
   other unit pays its own line's additional-item rate. Items from one seller ship
   together, whichever profiles they use.

Integer cents throughout. Files are not shipped and are ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django_countries import countries

if TYPE_CHECKING:
    from catalog.models import Product, ShippingProfile, ShippingRate


def country_name(code: str) -> str:
    return str(countries.name(code)) if code else ""


def shipping_rate_for(profile: ShippingProfile, country: str) -> ShippingRate | None:
    """The profile's row for `country`, else its "everywhere else" row, else None.
    Reads `profile.rates.all()` (prefetch it for lists)."""
    fallback = None
    for rate in profile.rates.all():
        if rate.country == country:
            return rate
        if not rate.country:
            fallback = rate
    return fallback


def shipping_unavailable_reason(product: Product, country: str) -> str:
    """Why this printed listing cannot ship to `country` ("" when it can)."""
    if product.kind != "PHYSICAL":
        return ""
    if not country:
        return "Choose where to ship it."
    profile = product.shipping_profile
    if profile is None:
        return "The seller has not set up shipping for this item."
    if shipping_rate_for(profile, country) is None:
        return f"Does not ship to {country_name(country)}."
    return ""


@dataclass
class SellerShippingQuote:
    cents: int = 0
    # {product id: reason} for printed lines that cannot ship to the country.
    unavailable: dict[int, str] = field(default_factory=dict)
    free: bool = False  # a free-over threshold made something ship free


def seller_shipping_quote(*, lines: list[tuple[Product, int]], country: str) -> SellerShippingQuote:
    """One seller's shipping for `country` (the rule in this module's docstring)."""
    quote = SellerShippingQuote()
    served: list[tuple[Product, int, ShippingRate]] = []
    for product, quantity in lines:
        if product.kind != "PHYSICAL" or quantity < 1:
            continue
        reason = shipping_unavailable_reason(product, country)
        if reason:
            quote.unavailable[product.pk] = reason
            continue
        served.append((product, quantity, shipping_rate_for(product.shipping_profile, country)))
    printed_subtotal = sum(p.price_cents * q for p, q, _ in served)
    paying = []
    for product, quantity, rate in served:
        threshold = product.shipping_profile.free_over_cents
        if threshold and printed_subtotal >= threshold:
            quote.free = True
            continue
        paying.append((quantity, rate))
    if not paying:
        return quote
    first = max(range(len(paying)), key=lambda i: (paying[i][1].first_item_cents, -i))
    for index, (quantity, rate) in enumerate(paying):
        if index == first:
            quote.cents += rate.first_item_cents + (quantity - 1) * rate.additional_item_cents
        else:
            quote.cents += quantity * rate.additional_item_cents
    return quote


def add_business_days(start: date, days: int) -> date:
    """`start` moved forward by `days` working days (Monday to Friday)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current
