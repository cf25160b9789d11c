from django.conf import settings
from django.db import models
from django.db.models import Q


class Report(models.Model):
    """A user's report of a review for staff to look at (v1: reviews only).

    One open report per reporter and review; staff resolve it through
    `moderation.services` (hide the review, or dismiss the report).
    """

    class Reason(models.TextChoices):
        SPAM = "SPAM", "Spam or advertising"
        OFFENSIVE = "OFFENSIVE", "Rude, hateful or harassing"
        OFF_TOPIC = "OFF_TOPIC", "Not about this product"
        FAKE = "FAKE", "Fake or misleading"
        PERSONAL = "PERSONAL", "Shares personal information"
        OTHER = "OTHER", "Something else"

    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        ACTIONED = "ACTIONED", "Review hidden"
        DISMISSED = "DISMISSED", "Dismissed"

    review = models.ForeignKey("catalog.Review", on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    details = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "reporter"],
                condition=Q(status="OPEN"),
                name="report_one_open_per_reporter_review",
            )
        ]

    def __str__(self) -> str:
        # "Spam or advertising report by bob@… on the 4★ review of “Planter” by ada@…
        # (Open)"; admin lists select_related the review's product and author.
        return (
            f"{self.get_reason_display()} report by {self.reporter} on the "
            f"{self.review} ({self.get_status_display()})"
        )
