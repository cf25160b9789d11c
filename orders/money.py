"""Integer money rules. Every amount is minor units (cents); nothing here uses floats.

- `marketplace_fee(subtotal, fee_bps)`: the fee on one order line, rounded half up to the
  cent: floor((subtotal × fee_bps + 5000) / 10000). `seller_net = subtotal − fee`, so
  fee + net == subtotal exactly, by construction.
- `allocate(total, weights)`: split `total` over lines in proportion to `weights` by the
  largest-remainder method, so the parts always add up to `total` exactly. Used for
  order-level shipping and tax at order creation; refunds read these snapshots and never
  recompute them.
- `seller_fixed_fee_parts(fee_fixed_cents, subtotals)`: the fee's fixed part per seller
  order, split over that seller's lines by subtotal with `allocate` (a seller whose lines
  are all free pays none). `line_amounts(..., fixed_fee_cents=part)` adds it to the
  line's percentage fee and caps the sum at the line's subtotal, so the seller's net is
  never negative and fee + net == subtotal still holds.
"""

BPS_DENOMINATOR = 10_000


def marketplace_fee(subtotal_cents: int, fee_bps: int) -> int:
    if subtotal_cents < 0:
        raise ValueError("subtotal must not be negative")
    if not 0 <= fee_bps <= BPS_DENOMINATOR:
        raise ValueError("fee_bps must be between 0 and 10000")
    return (subtotal_cents * fee_bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR


def line_amounts(
    *, unit_price_cents: int, quantity: int, fee_bps: int, fixed_fee_cents: int = 0
) -> dict[str, int]:
    """The snapshot of one order line: subtotal, marketplace_fee, seller_net. The fee is
    the percentage fee plus this line's part of the fixed fee, at most the subtotal."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if fixed_fee_cents < 0:
        raise ValueError("the fixed fee must not be negative")
    subtotal = unit_price_cents * quantity
    fee = min(subtotal, marketplace_fee(subtotal, fee_bps) + fixed_fee_cents)
    return {
        "subtotal_cents": subtotal,
        "marketplace_fee_cents": fee,
        "seller_net_cents": subtotal - fee,
    }


def allocate(total_cents: int, weights: list[int]) -> list[int]:
    """Split `total_cents` over `weights` (non-negative integers) exactly.

    Each part gets floor(total × w / Σw); the cents left over go one each to the parts
    with the largest remainders, earlier parts first on ties. With all weights zero the
    total is split as evenly as possible. Deterministic for the same input.
    """
    if total_cents < 0:
        raise ValueError("total must not be negative")
    if not weights:
        if total_cents:
            raise ValueError("cannot allocate a non-zero total over no lines")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    if sum(weights) == 0:
        weights = [1] * len(weights)
    weight_sum = sum(weights)
    parts, remainders = [], []
    for index, weight in enumerate(weights):
        share, remainder = divmod(total_cents * weight, weight_sum)
        parts.append(share)
        remainders.append((-remainder, index))
    for _, index in sorted(remainders)[: total_cents - sum(parts)]:
        parts[index] += 1
    return parts


def refund_split(
    *,
    seller_net_cents: int,
    marketplace_fee_cents: int,
    tax_cents: int,
    shipping_cents: int,
    refunded_before_cents: int,
    amount_cents: int,
) -> dict[str, int]:
    """Which part of one line a refund of `amount_cents` gives back (docs/LEDGER.md).

    The item is refunded first, then the line's shipping. Within the item, the seller's
    net part is rounded down (floor(x × net / item)) and the platform's rest is split
    between fee and tax the same way, so every part only grows as x grows. Computed
    cumulatively — the split of (before + amount) minus the split of (before) — so any
    sequence of partial refunds adds up exactly to the line and never takes more from a
    part than it holds (largest remainder would not: it is not monotone).
    Returns {"net", "fee", "tax", "shipping"}; the seller funds net + shipping.
    """
    item = seller_net_cents + marketplace_fee_cents + tax_cents
    line = item + shipping_cents
    if amount_cents < 0 or refunded_before_cents < 0:
        raise ValueError("amounts must not be negative")
    if refunded_before_cents + amount_cents > line:
        raise ValueError("a refund cannot exceed what the line was paid")

    def upto(total: int) -> dict[str, int]:
        from_item = min(total, item)
        net = from_item * seller_net_cents // item if item else 0
        rest = from_item - net
        platform = marketplace_fee_cents + tax_cents
        tax = rest * tax_cents // platform if platform else 0
        return {"net": net, "fee": rest - tax, "tax": tax, "shipping": total - from_item}

    after, before = upto(refunded_before_cents + amount_cents), upto(refunded_before_cents)
    return {part: after[part] - before[part] for part in after}


def line_refund_shares(line, *, refunded_before_cents: int, amount_cents: int) -> tuple[int, int]:
    """(seller's share, platform's share) of giving back `amount_cents` of one order
    line (its snapshot fields), after `refunded_before_cents`: `refund_split`'s net +
    shipping for the seller, fee + tax for the platform. Refunds and disputes both use it."""
    split = refund_split(
        seller_net_cents=line.seller_net_cents,
        marketplace_fee_cents=line.marketplace_fee_cents,
        tax_cents=line.tax_allocated_cents,
        shipping_cents=line.shipping_allocated_cents,
        refunded_before_cents=refunded_before_cents,
        amount_cents=amount_cents,
    )
    return split["net"] + split["shipping"], split["fee"] + split["tax"]


def seller_fixed_fee_parts(fee_fixed_cents: int, subtotals: list[int]) -> list[int]:
    """One seller's fixed fee split over their lines by subtotal (largest remainder). A
    seller whose lines are all free pays no fixed fee; a free line gets no part."""
    if fee_fixed_cents < 0:
        raise ValueError("the fixed fee must not be negative")
    if not subtotals or sum(subtotals) == 0:
        return [0] * len(subtotals)
    return allocate(fee_fixed_cents, subtotals)
