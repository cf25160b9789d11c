from django.conf import settings
from django.db import models
from django.db.models import Q


class Report(models.Model):
    """A report of something on the site (a listing, question, answer, message, review or
    user), an intellectual-property notice, or an appeal of a staff decision, for staff to
    look at in the moderation queue.

    The target is `kind` + `target_id` (each kind names one model; `review` is also kept as a
    real foreign key for review reports, which the product page reads). `subject_user` is
    whose content or account it is about: suspensions and repeat offenders are counted from
    it. One open report per reporter and target (a guest reporter is identified by the
    email of the order whose token they hold).
    """

    class Kind(models.TextChoices):
        LISTING = "LISTING", "Listing"
        QUESTION = "QUESTION", "Question"
        ANSWER = "ANSWER", "Answer"
        MESSAGE = "MESSAGE", "Message"
        REVIEW = "REVIEW", "Review"
        USER = "USER", "User"
        IP = "IP", "Intellectual property notice"
        APPEAL = "APPEAL", "Appeal of a staff decision"

    class Reason(models.TextChoices):
        SPAM = "SPAM", "Spam or advertising"
        OFFENSIVE = "OFFENSIVE", "Rude, hateful or harassing"
        OFF_TOPIC = "OFF_TOPIC", "Not about this product"
        FAKE = "FAKE", "Fake or misleading"
        PERSONAL = "PERSONAL", "Shares personal information"
        PROHIBITED = "PROHIBITED", "Prohibited item or content"
        IP = "IP", "Infringes someone's rights"
        APPEAL = "APPEAL", "Appeal"
        OTHER = "OTHER", "Something else"

    # What a person may pick when reporting a review (IP notices and appeals have their own
    # forms).
    REVIEW_REASONS = ("SPAM", "OFFENSIVE", "OFF_TOPIC", "FAKE", "PERSONAL", "OTHER")

    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        ACTIONED = "ACTIONED", "Action taken"
        DISMISSED = "DISMISSED", "Dismissed"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REVIEW)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    review = models.ForeignKey(
        "catalog.Review", null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_about",
        help_text="Whose content or account the report is about.",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_made",
    )
    # A guest holding an order token reports under the order's email.
    reporter_email = models.EmailField(blank=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    details = models.TextField(max_length=4000, blank=True)
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
    resolution = models.TextField(blank=True, help_text="What staff decided and why.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["kind", "target_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target_id", "reporter"],
                condition=Q(status="OPEN", reporter__isnull=False),
                name="report_one_open_per_reporter_target",
            ),
            models.UniqueConstraint(
                fields=["kind", "target_id", "reporter_email"],
                condition=Q(status="OPEN", reporter__isnull=True),
                name="report_one_open_per_guest_target",
            ),
        ]

    def __str__(self) -> str:
        who = self.reporter or self.reporter_email or "someone"
        if self.review_id is not None:
            return (
                f"{self.get_reason_display()} report by {who} on the {self.review} "
                f"({self.get_status_display()})"
            )
        return (
            f"{self.get_reason_display()} report by {who} on {self.get_kind_display().lower()} "
            f"#{self.target_id} ({self.get_status_display()})"
        )


def report_reason_choices(codes) -> list[tuple[str, str]]:
    """The (value, label) pairs of `Report.Reason` for the given codes, in that order."""
    labels = dict(Report.Reason.choices)
    return [(code, labels[code]) for code in codes]


class AppendOnlyError(Exception):
    """An audit row was asked to change or disappear."""


# What may change on an audit row after it is written: the appeal stamp, and the people
# links going empty when an account is deleted (ON DELETE SET NULL).
_MUTABLE = {"appealed_at", "actor", "actor_id", "subject_user", "subject_user_id"}


class StaffActionLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        for name, value in kwargs.items():
            if name not in _MUTABLE or (name != "appealed_at" and value is not None):
                raise AppendOnlyError("StaffActionLog rows are append-only (no UPDATE).")
        return super().update(**kwargs)

    def delete(self):
        raise AppendOnlyError("StaffActionLog rows are append-only (no DELETE).")


class StaffActionLog(models.Model):
    """Every staff action, anywhere: who did what to which thing, why, and what changed.

    Written only by `moderation.audit.staff_action_record` (lower apps reach it through
    `marketplace.audit`). Append-only: rows are never edited or deleted. `subject_user`
    is the person affected; when set they receive a statement of reasons and may appeal
    once (`appealed_at`).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_actions",
    )
    # What was done, as a dotted verb: "report.resolve", "user.suspend", "listing.take_down",
    # "refund.create", "stripe_event.reprocess", "admin.change"…
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, help_text="app_label.model of the target")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_actions_about",
    )
    reason = models.TextField()
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    appealable = models.BooleanField(default=False)
    appealed_at = models.DateTimeField(null=True, blank=True)

    objects = StaffActionLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor or 'system'} {self.action} {self.target_repr or self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("StaffActionLog rows are append-only (no UPDATE).")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("StaffActionLog rows are append-only (no DELETE).")

    ACTION_LABELS = {
        "user.suspend": "Your account was suspended",
        "user.unsuspend": "Your suspension was lifted",
        "user.suspension_expired": "Your suspension ended",
        "listing.take_down": "Your listing was taken down",
        "listing.restore": "Your listing was restored",
        "review.hide": "Your review was removed",
        "review.restore": "Your review was restored",
        "question.remove": "Your question was removed",
        "question.restore": "Your question was restored",
        "answer.remove": "Your answer was removed",
        "answer.restore": "Your answer was restored",
        "message.remove": "Your message was removed",
        "message.restore": "Your message was restored",
        "appeal.uphold": "Your appeal was reviewed: the decision stands",
    }

    def get_action_label(self) -> str:
        return self.ACTION_LABELS.get(self.action, "")


class Suspension(models.Model):
    """A user suspended by staff, with a reason and an optional end.

    The user's `is_suspended` flag mirrors "an active suspension exists"; only
    `moderation.suspensions` writes either. Lifted by staff (`lifted_by`) or by the
    schedule once `ends_at` passes (`lifted_by` empty).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suspensions"
    )
    reason = models.TextField()
    starts_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(lifted_at__isnull=True),
                name="suspension_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} suspended {self.starts_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class IPNotice(models.Model):
    """The structured part of an intellectual-property notice (a `Report` of kind IP about
    a listing: `report.target_id` is the product, `report.subject_user` its seller). Sent
    by anyone through the public form (`moderation.ip.ip_notice_submit`)."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="ip_notice")
    claimant_name = models.CharField(max_length=150)
    claimant_email = models.EmailField()
    claimant_organisation = models.CharField(max_length=150, blank=True)
    work_description = models.TextField(max_length=2000)
    work_url = models.URLField(max_length=500, blank=True)
    listing_url = models.URLField(max_length=500)
    sworn_statement = models.BooleanField(default=False)
    signature = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "IP notice"

    def __str__(self) -> str:
        return (
            f"IP notice #{self.pk} by {self.claimant_name} about listing #{self.report.target_id}"
        )


class CounterNotice(models.Model):
    """A seller's answer to an IP takedown of their listing: they state in good faith that
    it was removed by mistake. Forwarded to the claimant; staff decide on restoring."""

    notice = models.OneToOneField(IPNotice, on_delete=models.CASCADE, related_name="counter")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="counter_notices"
    )
    # The appeal in the moderation queue (Report kind APPEAL) this counter-notice opened.
    report = models.OneToOneField(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="counter_notice"
    )
    explanation = models.TextField(max_length=4000)
    full_name = models.CharField(max_length=150)
    address = models.TextField(max_length=500)
    phone = models.CharField(max_length=40, blank=True)
    good_faith_statement = models.BooleanField(default=False)
    signature = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Counter-notice to IP notice #{self.notice_id}"
