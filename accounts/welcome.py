"""The welcome email, sent once when a person first verifies an address."""

from django.db import transaction
from django.urls import reverse

from messaging.services import email_send


def welcome_email_send(*, user_id: int) -> None:
    """Email the user a welcome, once ever (key `welcome-user-<id>`)."""
    from marketplace.models import User

    user = User.objects.filter(pk=user_id, deleted_at__isnull=True).first()
    if user is None:
        return
    email_send(
        key=f"welcome-user-{user.pk}",
        to=user.email,
        template="marketplace/emails/welcome",
        context={
            "user": user,
            "profile_path": reverse("marketplace:profile"),
            "notification_user": user,
            "notification_url": reverse("marketplace:profile"),
        },
    )


def welcome_email_on_confirm(*, user, email: str) -> None:
    """Registered on marketplace's email-confirmed hook."""
    from accounts.tasks import welcome_email_send_task

    user_id = user.pk
    transaction.on_commit(lambda: welcome_email_send_task.delay(user_id))
