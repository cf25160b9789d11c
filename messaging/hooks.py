"""What messaging needs to know from apps above it, without importing them.

A higher app registers a function here in its `AppConfig.ready()`; with nothing
registered the call gives the neutral answer (no order context: order threads cannot be
started, and an existing one shows no order panel). See `catalog.hooks` for the pattern.

| hook | registered by | messaging uses it for |
| --- | --- | --- |
| order context | orders | who may write about an order; the panel beside an ORDER thread |
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OrderContext:
    """One paid order as seen by one of its sellers: enough to authorize an ORDER thread
    and to show the seller what it is about. `access_token` never reaches a template; it
    is compared in constant time and put in the guest's email link."""

    order_id: int
    number: str  # "#12", as every order page and email says it
    status: str  # human label
    buyer_id: int | None
    buyer_email: str
    buyer_name: str
    lines: tuple[str, ...]  # "2 × Title — Shipped", this seller's lines only
    sale_path: str  # the seller's sale page
    order_path: str  # the buyer's order page (without the token)
    access_token: str = field(repr=False, default="")


_order_context: list[Callable[..., OrderContext | None]] = []


def register_order_context(
    fn: Callable[..., OrderContext | None],
) -> Callable[..., OrderContext | None]:
    """`fn(*, order_id, seller_id) -> OrderContext | None`: None when that seller sold
    nothing on that order or it was never paid."""
    if fn not in _order_context:
        _order_context.append(fn)
    return fn


def order_context(*, order_id: int, seller_id: int) -> OrderContext | None:
    for fn in _order_context:
        context = fn(order_id=order_id, seller_id=seller_id)
        if context is not None:
            return context
    return None
