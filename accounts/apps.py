from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The top layer: what a person does with their whole account across every app —
    data export, account deletion, the welcome email."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import welcome
        from marketplace.hooks import register_email_confirmed

        register_email_confirmed(welcome.welcome_email_on_confirm)
