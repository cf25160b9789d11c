import secrets

from django.conf import settings
from django.db import models


def new_export_token() -> str:
    return secrets.token_urlsafe(24)


class DataExport(models.Model):
    """One "download my data" request: a ZIP of JSON and CSV files built in the background
    (`accounts.export.data_export_build`), kept in private storage and handed over through
    a short-lived signed link (the requester only). The file is deleted when it expires."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Being prepared"
        READY = "READY", "Ready to download"
        FAILED = "FAILED", "Failed"
        EXPIRED = "EXPIRED", "Expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    token = models.CharField(max_length=64, unique=True, default=new_export_token)
    file_name = models.CharField(max_length=300, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Data export #{self.pk} of user {self.user_id} ({self.get_status_display()})"


class AccountDeletion(models.Model):
    """The record that a person deleted their own account: when, and what was done. The
    user row stays, anonymised (`User.deleted_at`), because orders, ledger rows, tax
    records and consent records point at it. Holds no personal data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="account_deletion"
    )
    deleted_at = models.DateTimeField(auto_now_add=True)
    was_seller = models.BooleanField(default=False)
    listings_taken_down = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-deleted_at", "-id"]

    def __str__(self) -> str:
        return f"Account {self.user_id} deleted {self.deleted_at:%Y-%m-%d}"
