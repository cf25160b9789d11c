from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Product Q&A, buyer-seller threads, notifications, email sending and its log."""

    name = "messaging"
    verbose_name = "Messaging"
