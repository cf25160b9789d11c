"""What marketplace (the bottom layer) needs to know from apps above it.

A higher app registers a function here in its `AppConfig.ready()`; with nothing
registered the call does nothing. See `catalog.hooks` for the pattern.

| hook | registered by | marketplace uses it for |
| --- | --- | --- |
| email confirmed | orders | a newly verified address takes over its guest orders |
"""

from collections.abc import Callable
from typing import Any

_email_confirmed: list[Callable[..., Any]] = []


def register_email_confirmed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, user, email)`: `user` just verified `email`."""
    if fn not in _email_confirmed:
        _email_confirmed.append(fn)
    return fn


def email_confirmed(*, user, email: str) -> None:
    for fn in _email_confirmed:
        fn(user=user, email=email)
