"""In-app notifications (the bell)."""

from messaging.models import Notification


def notify(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    staff_action_id: int | None = None,
) -> Notification | None:
    """Create one notification for `user` (nothing for a guest: `user` None or anonymous)."""
    if user is None or not getattr(user, "pk", None):
        return None
    return Notification.objects.create(
        user=user,
        kind=kind,
        title=title[:200],
        body=body,
        url=url[:500],
        staff_action_id=staff_action_id,
    )
