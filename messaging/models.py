from django.conf import settings
from django.db import models


class EmailLog(models.Model):
    """Every email we send, keyed so the same message is never sent twice.

    `key` names the message (e.g. `receipt-order-12`); a task that runs again finds the
    SENT row and stops. FAILED rows keep their error and can be retried.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    template = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key} → {self.to} ({self.status})"


class Notification(models.Model):
    """Something that happened that a user should know about, shown behind the bell.

    Created by `messaging.notifications.notify`; every user-facing email creates one
    (a parity test holds the list). `kind` names the event (as the email's template does)
    and drives per-type email preferences.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # The statement of reasons this notification carries, when staff decided something
    # about the user (they can appeal from it).
    staff_action_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"
