"""The one writer of `StaffActionLog` (registered in `marketplace.audit`)."""

from django.db import models

from marketplace.observability import current_request_id
from moderation.models import StaffActionLog


def _target_fields(target) -> dict:
    if isinstance(target, models.Model):
        return {
            "target_type": target._meta.label_lower,
            "target_id": str(target.pk),
            "target_repr": str(target)[:300],
        }
    return {"target_type": "", "target_id": "", "target_repr": str(target or "")[:300]}


def staff_action_record(
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
) -> StaffActionLog:
    """Append one audit row: actor, action, target, reason, before/after and the current
    request id. Never edits earlier rows. When `subject_user` is given, the statement of
    reasons is sent to them (see `moderation.statements`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A staff action needs a reason.")
    entry = StaffActionLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        reason=reason,
        before=before or {},
        after=after or {},
        subject_user=subject_user,
        request_id=current_request_id() or "",
        appealable=bool(subject_user and appealable),
        **_target_fields(target),
    )
    if subject_user is not None:
        from moderation.statements import statement_of_reasons_send

        statement_of_reasons_send(entry=entry, statement=statement)
    return entry
