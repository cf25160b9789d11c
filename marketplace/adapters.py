from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from config.env import env_bool
from marketplace.hooks import email_confirmed
from marketplace.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Ops can close signups (e.g. during an abuse wave) without a deploy.
        return env_bool("SIGNUP_OPEN", default=True)

    def get_client_ip(self, request) -> str:
        """allauth's rate limits key on the same client IP as every other limiter."""
        return client_ip(request)

    def get_from_email(self) -> str:
        return settings.DEFAULT_FROM_EMAIL

    def confirm_email(self, request, email_address):
        """Once an address is verified, guest orders placed with it join the account
        (orders' `email confirmed` hook)."""
        confirmed = super().confirm_email(request, email_address)
        email_confirmed(user=email_address.user, email=email_address.email)
        return confirmed
