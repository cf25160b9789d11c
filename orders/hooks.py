"""What orders need to know from apps above them, without importing them.

A higher app registers a function here in its `AppConfig.ready()`; with nothing
registered the call gives the neutral answer. See `catalog.hooks` for the pattern.

| hook | registered by | orders use it for |
| --- | --- | --- |
| line download rule | downloads | the "Download" link on an order page's lines |
| line refund rule | refunds | the "Request a refund" link on an order page's lines |
"""

from collections.abc import Callable

_line_download_rules: list[Callable[..., bool]] = []


def register_line_download_rule(fn: Callable[..., bool]) -> Callable[..., bool]:
    """`fn(line) -> bool`: does this (loaded) order line entitle its buyer to files?"""
    if fn not in _line_download_rules:
        _line_download_rules.append(fn)
    return fn


def order_line_grants_download(line) -> bool:
    return any(fn(line) for fn in _line_download_rules)


_line_refund_rules: list[Callable[..., bool]] = []


def register_line_refund_rule(fn: Callable[..., bool]) -> Callable[..., bool]:
    """`fn(line) -> bool`: may the buyer ask for a refund of this (loaded) line now?"""
    if fn not in _line_refund_rules:
        _line_refund_rules.append(fn)
    return fn


def order_line_refund_open(line) -> bool:
    return any(fn(line) for fn in _line_refund_rules)
