"""What payments tells the apps above it (refunds), without importing them.

| hook | registered by | called when |
| --- | --- | --- |
| refund settled | refunds | Stripe confirmed a refund and its ledger rows are posted |
| refund failed | refunds | Stripe refused a refund (or gave up after an outage) |

Each is called after commit with the `PaymentRefund` id; with nothing registered
nothing happens (payments works on its own). Registration is idempotent.
"""

from collections.abc import Callable

_refund_settled: list[Callable[[int], None]] = []
_refund_failed: list[Callable[[int], None]] = []


def register_refund_settled(fn: Callable[[int], None]) -> Callable[[int], None]:
    if fn not in _refund_settled:
        _refund_settled.append(fn)
    return fn


def register_refund_failed(fn: Callable[[int], None]) -> Callable[[int], None]:
    if fn not in _refund_failed:
        _refund_failed.append(fn)
    return fn


def refund_settled(payment_refund_id: int) -> None:
    for fn in _refund_settled:
        fn(payment_refund_id)


def refund_failed(payment_refund_id: int) -> None:
    for fn in _refund_failed:
        fn(payment_refund_id)
