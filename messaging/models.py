import uuid

from django.conf import settings
from django.db import models

from marketplace.storage import private_storage


class EmailLog(models.Model):
    """Every email we send, keyed so the same message is never sent twice.

    `key` names the message (e.g. `receipt-order-12`); a task that runs again finds the
    SENT row and stops. The message is rendered once, when the event happens, and kept
    here (subject, text, html): a retry sends exactly what was rendered. PENDING rows
    wait for the delivery task (`next_attempt_at`: when it is due); FAILED rows keep
    their error and are retried by `retry_failed_emails` or by staff; SKIPPED rows are
    optional emails the recipient turned off (their notification was still created).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"
        SKIPPED = "SKIPPED", "Skipped (turned off by the recipient)"

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    template = models.CharField(max_length=200)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

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


class NotificationPreference(models.Model):
    """A user's choice of optional emails (`messaging.email_kinds`). `muted_kinds` lists
    the email templates they turned off; transactional mail ignores it. No row = every
    optional email on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    muted_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"


class Question(models.Model):
    """A public question about a listing, asked by a verified user. Answers hang below it.

    Soft-deleted by moderation (`removed_at`): the thread keeps a placeholder.
    """

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="questions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions_asked"
    )
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    # Stamped when the seller first answers: the workspace lists unanswered questions.
    answered_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"])]

    def __str__(self) -> str:
        return f"Question #{self.pk} on {self.product_id}"


class Answer(models.Model):
    """An answer to a question: by the seller (`is_seller`) or by another verified user."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answers_given"
    )
    body = models.TextField(max_length=2000)
    is_seller = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Answer #{self.pk} to question #{self.question_id}"


class Conversation(models.Model):
    """One thread between a buyer and a seller about one subject: an order, a listing, or
    the shop in general. One thread per (buyer, seller, subject).

    A guest buyer (order token) has no account: `buyer` is empty and `buyer_email` is the
    order's email, which receives the seller's replies with a link back.
    """

    class Subject(models.TextChoices):
        ORDER = "ORDER", "An order"
        LISTING = "LISTING", "A listing"
        SHOP = "SHOP", "The shop"

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations_as_seller"
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations_as_buyer",
    )
    buyer_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=8, choices=Subject.choices)
    # Orders sit above messaging: a string reference, and the order page's context comes
    # through a hook (see messaging/hooks.py), never an import.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    buyer_read_at = models.DateTimeField(null=True, blank=True)
    seller_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "seller", "order"],
                condition=models.Q(subject="ORDER", buyer__isnull=False),
                name="conversation_one_per_buyer_order",
            ),
            models.UniqueConstraint(
                fields=["buyer_email", "seller", "order"],
                condition=models.Q(subject="ORDER", buyer__isnull=True),
                name="conversation_one_per_guest_order",
            ),
            models.UniqueConstraint(
                fields=["buyer", "seller", "product"],
                condition=models.Q(subject="LISTING"),
                name="conversation_one_per_buyer_listing",
            ),
            models.UniqueConstraint(
                fields=["buyer", "seller"],
                condition=models.Q(subject="SHOP"),
                name="conversation_one_per_buyer_shop",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation #{self.pk} ({self.get_subject_display()})"


def message_attachment_upload_to(instance: "Message", filename: str) -> str:
    # A random name: the uploaded name is never used (the image is re-encoded as WebP).
    return f"messages/{instance.conversation_id}/{uuid.uuid4().hex}.webp"


class Message(models.Model):
    """One message in a conversation. `sender` empty = the guest buyer. Soft-deleted by
    moderation (`removed_at`); an optional image attachment validated like listing images.

    The attachment lives in the PRIVATE storage (no public URL): only the thread's
    participants and staff get it, through `messaging:attachment`."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages_sent",
    )
    body = models.TextField(max_length=4000)
    attachment = models.ImageField(
        upload_to=message_attachment_upload_to, storage=private_storage, blank=True, max_length=300
    )
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message #{self.pk} in conversation #{self.conversation_id}"
