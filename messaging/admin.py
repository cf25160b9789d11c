from django.contrib import admin, messages

from marketplace.admin_display import ReadOnlyAdmin
from marketplace.exceptions import ApplicationError
from messaging.models import EmailLog, Notification, NotificationPreference
from messaging.services import email_retry


@admin.register(EmailLog)
class EmailLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "to", "subject", "template", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("key", "to", "subject")
    date_hierarchy = "created_at"
    # The bodies are left out: a password-reset email carries a one-time link.
    exclude = ("text_body", "html_body")
    actions = ["retry_failed"]

    @admin.action(description="Send the selected failed emails again")
    def retry_failed(self, request, queryset):
        retried = 0
        for log in queryset.filter(status=EmailLog.Status.FAILED):
            try:
                email_retry(
                    log_id=log.pk, actor=request.user, reason="Retried from the admin email log."
                )
                retried += 1
            except ApplicationError as exc:
                self.message_user(request, f"{log.key}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{retried} email(s) queued again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "title")
    raw_id_fields = ("user",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "muted_kinds", "updated_at")
    search_fields = ("user__email",)
