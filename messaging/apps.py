from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Product Q&A, buyer-seller threads, notifications, email sending and its log."""

    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from marketplace.hooks import register_account_email_sender
        from messaging.account_emails import account_email_record

        register_account_email_sender(account_email_record)

        # What lower apps learn from messaging, without importing it (see catalog/hooks.py).
        from catalog import hooks as catalog_hooks
        from marketplace import hooks as marketplace_hooks
        from messaging import post_tasks  # noqa: F401  Celery registers tasks.py only
        from messaging.post_selectors import product_questions_section
        from messaging.posts import conversations_attach_guest

        catalog_hooks.register_product_questions(product_questions_section)
        marketplace_hooks.register_email_confirmed(conversations_attach_guest)
