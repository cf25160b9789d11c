from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Reports, the staff queue, suspensions and the staff audit log."""

    name = "moderation"
    verbose_name = "Moderation"
