from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Product Q&A, buyer-seller threads, notifications, email sending and its log."""

    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from marketplace.hooks import register_account_email_sender
        from messaging.account_emails import account_email_record

        register_account_email_sender(account_email_record)
