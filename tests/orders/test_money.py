"""Property tests of the money rules: exact, over many prices, quantities and rates."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.money import allocate, line_amounts, marketplace_fee

cents = st.integers(min_value=0, max_value=10_000_000)
fee_rates = st.integers(min_value=0, max_value=10_000)


@given(unit=cents, quantity=st.integers(min_value=1, max_value=500), fee_bps=fee_rates)
def test_fee_plus_net_is_the_subtotal_exactly(unit, quantity, fee_bps):
    line = line_amounts(unit_price_cents=unit, quantity=quantity, fee_bps=fee_bps)
    assert line["subtotal_cents"] == unit * quantity
    assert line["marketplace_fee_cents"] + line["seller_net_cents"] == line["subtotal_cents"]
    assert 0 <= line["marketplace_fee_cents"] <= line["subtotal_cents"]


@given(subtotal=cents, fee_bps=fee_rates)
def test_the_fee_is_within_half_a_cent_of_the_exact_rate(subtotal, fee_bps):
    fee = marketplace_fee(subtotal, fee_bps)
    exact_times_10000 = subtotal * fee_bps
    assert abs(fee * 10_000 - exact_times_10000) <= 5_000


@pytest.mark.parametrize(
    ("subtotal", "bps", "fee"),
    [
        (1999, 1000, 200),
        (1995, 1000, 200),
        (1994, 1000, 199),
        (5, 1000, 1),
        (4, 1000, 0),
        (0, 1000, 0),
        (12345, 0, 0),
        (12345, 10_000, 12345),
        (333, 1250, 42),
    ],
)
def test_fee_rounding_is_half_up_to_the_cent(subtotal, bps, fee):
    assert marketplace_fee(subtotal, bps) == fee


@given(
    total=cents,
    weights=st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=40),
)
def test_allocations_add_up_exactly_and_follow_the_weights(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)
    weight_sum = sum(weights) or len(weights)
    effective = weights if sum(weights) else [1] * len(weights)
    for part, weight in zip(parts, effective, strict=True):
        # every part is within one cent of its exact proportional share
        assert abs(part * weight_sum - total * weight) < weight_sum


def test_leftover_cents_go_to_the_largest_remainders_then_earliest():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(7, [0, 0]) == [4, 3]
    assert allocate(0, [5, 5]) == [0, 0]


@pytest.mark.parametrize(
    "call",
    [
        lambda: allocate(-1, [1]),
        lambda: allocate(5, []),
        lambda: allocate(5, [1, -1]),
        lambda: marketplace_fee(-1, 100),
        lambda: marketplace_fee(100, 10_001),
        lambda: line_amounts(unit_price_cents=100, quantity=0, fee_bps=100),
    ],
)
def test_impossible_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


# --- refunds: which part of a line each refund gives back ---------------------------------
@given(
    net=st.integers(0, 10**7),
    fee=st.integers(0, 10**6),
    tax=st.integers(0, 10**6),
    shipping=st.integers(0, 10**5),
    data=st.data(),
)
def test_refund_splits_add_up_to_each_refund_and_never_exceed_a_part(net, fee, tax, shipping, data):
    from orders.money import refund_split

    line = net + fee + tax + shipping
    refunded = 0
    totals = {"net": 0, "fee": 0, "tax": 0, "shipping": 0}
    for _ in range(data.draw(st.integers(1, 6))):
        amount = data.draw(st.integers(0, line - refunded))
        split = refund_split(
            seller_net_cents=net,
            marketplace_fee_cents=fee,
            tax_cents=tax,
            shipping_cents=shipping,
            refunded_before_cents=refunded,
            amount_cents=amount,
        )
        assert all(part >= 0 for part in split.values())
        assert sum(split.values()) == amount
        refunded += amount
        for part, value in split.items():
            totals[part] += value
    assert totals["net"] <= net and totals["fee"] <= fee and totals["tax"] <= tax
    assert totals["shipping"] <= shipping
    # the item goes back before the shipping
    assert totals["shipping"] == max(0, refunded - (net + fee + tax))
    # and refunding everything gives back exactly every part
    rest = refund_split(
        seller_net_cents=net,
        marketplace_fee_cents=fee,
        tax_cents=tax,
        shipping_cents=shipping,
        refunded_before_cents=refunded,
        amount_cents=line - refunded,
    )
    assert {k: totals[k] + rest[k] for k in totals} == {
        "net": net,
        "fee": fee,
        "tax": tax,
        "shipping": shipping,
    }


def test_a_refund_over_what_the_line_was_paid_is_refused():
    from orders.money import refund_split

    with pytest.raises(ValueError, match="exceed"):
        refund_split(
            seller_net_cents=900,
            marketplace_fee_cents=100,
            tax_cents=0,
            shipping_cents=0,
            refunded_before_cents=600,
            amount_cents=401,
        )


# --- the fixed fee per seller order (docs/LEDGER.md) --------------------------------------
from orders.money import seller_fixed_fee_parts  # noqa: E402

subtotal_lists = st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=8)


@given(subtotals=subtotal_lists, fixed=st.integers(min_value=0, max_value=100_000))
def test_the_fixed_fee_splits_exactly_over_a_paying_sellers_lines(subtotals, fixed):
    parts = seller_fixed_fee_parts(fixed, subtotals)
    assert len(parts) == len(subtotals)
    assert all(part >= 0 for part in parts)
    if sum(subtotals) == 0:
        assert parts == [0] * len(subtotals)  # a seller of free items only pays no fixed fee
    else:
        assert sum(parts) == fixed
        assert all(part == 0 for part, s in zip(parts, subtotals, strict=True) if s == 0)


@given(
    subtotals=subtotal_lists,
    fixed=st.integers(min_value=0, max_value=100_000),
    fee_bps=fee_rates,
)
def test_with_a_fixed_fee_fee_plus_net_is_still_the_subtotal_and_net_never_negative(
    subtotals, fixed, fee_bps
):
    parts = seller_fixed_fee_parts(fixed, subtotals)
    for subtotal, part in zip(subtotals, parts, strict=True):
        line = line_amounts(
            unit_price_cents=subtotal, quantity=1, fee_bps=fee_bps, fixed_fee_cents=part
        )
        assert line["marketplace_fee_cents"] + line["seller_net_cents"] == subtotal
        assert 0 <= line["seller_net_cents"] <= subtotal
        assert line["marketplace_fee_cents"] == min(
            subtotal, marketplace_fee(subtotal, fee_bps) + part
        )


def test_a_fixed_fee_of_30_cents_over_two_lines_of_one_seller():
    # $10 and $20 lines, 10% and 30 cents: 10 and 20 cents of it, by subtotal
    assert seller_fixed_fee_parts(30, [1000, 2000]) == [10, 20]
    line = line_amounts(unit_price_cents=1000, quantity=1, fee_bps=1000, fixed_fee_cents=10)
    assert (line["marketplace_fee_cents"], line["seller_net_cents"]) == (110, 890)


def test_the_fee_is_capped_at_the_line_subtotal():
    line = line_amounts(unit_price_cents=100, quantity=1, fee_bps=1000, fixed_fee_cents=500)
    assert (line["marketplace_fee_cents"], line["seller_net_cents"]) == (100, 0)
