"""What marketplace (the bottom layer) needs to know from apps above it.

A higher app registers a function here in its `AppConfig.ready()`; with nothing
registered the call does nothing. See `catalog.hooks` for the pattern.

| hook | registered by | marketplace uses it for |
| --- | --- | --- |
| account email sender | messaging | allauth's emails are logged, queued and retried |
| email confirmed | orders, messaging | the address takes over its guest orders, threads |
| open report counts | moderation | staff badges on reported messages, questions, answers |
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


# ------------------------------------------------------------------------------
# Account emails (allauth) go through messaging's durable queue
# ------------------------------------------------------------------------------
_account_email_senders: list[Callable[..., Any]] = []


def register_account_email_sender(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(*, template, to, message, user)`: record and queue an email allauth rendered
    (`message` is its EmailMessage, `user` the account it concerns or None)."""
    if fn not in _account_email_senders:
        _account_email_senders.append(fn)
    return fn


def account_email_send(*, template: str, to: str, message, user=None) -> bool:
    """Hand an account email to the registered sender; False when none is registered
    (the caller then sends it directly)."""
    for fn in _account_email_senders:
        fn(template=template, to=to, message=message, user=user)
    return bool(_account_email_senders)


_open_report_counts: list[Callable[..., dict[int, int]]] = []


def register_open_report_counts(fn: Callable[..., dict[int, int]]) -> Callable[..., Any]:
    """`fn(kind, ids) -> {id: open reports}` (moderation.selectors.open_report_counts)."""
    if fn not in _open_report_counts:
        _open_report_counts.append(fn)
    return fn


def open_report_counts(kind: str, ids) -> dict[int, int]:
    """Open reports per target id of one `Report.Kind` ("MESSAGE", "QUESTION", …), for
    staff-only badges; {} when moderation is not installed. Show it to staff only."""
    for fn in _open_report_counts:
        return fn(kind, ids)
    return {}
