"""The staff audit trail, reachable from every layer.

`moderation` owns `StaffActionLog` and registers its writer here in `AppConfig.ready()`;
lower apps (refunds, payments, catalog's admin) record what staff did through
`staff_action` without importing moderation.
"""

from collections.abc import Callable
from typing import Any

_recorders: list[Callable[..., Any]] = []


def register_staff_action_recorder(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(**kwargs)` with the arguments of `staff_action`; returns the log row."""
    if fn not in _recorders:
        _recorders.append(fn)
    return fn


def staff_action(
    *,
    actor,
    action: str,
    target,
    reason: str,
    before: dict | None = None,
    after: dict | None = None,
    subject_user=None,
    statement: str = "",
    appealable: bool = False,
) -> Any:
    """Record that staff member `actor` did `action` to `target` (a model instance) because
    of `reason`, with a before/after summary. `subject_user`, when given, is the person
    affected: they receive `statement` (what was decided) with the reason and, when
    `appealable`, a way to appeal once. Returns the log row (None if nothing is registered).
    Call it inside the transaction that makes the change, so both land or neither does."""
    result = None
    for fn in _recorders:
        result = fn(
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            before=before or {},
            after=after or {},
            subject_user=subject_user,
            statement=statement,
            appealable=appealable,
        )
    return result


_statement_finders: list[Callable[..., Any]] = []


def register_suspension_statement_finder(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(user) -> str`: the URL of the statement of reasons of the user's active
    suspension ("" when there is none)."""
    if fn not in _statement_finders:
        _statement_finders.append(fn)
    return fn


def suspension_statement_url(user) -> str:
    """Where a suspended user reads why (the suspended page links to it)."""
    for fn in _statement_finders:
        url = fn(user)
        if url:
            return url
    return ""
