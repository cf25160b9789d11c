from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from config.env import env_bool


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Ops can close signups (e.g. during an abuse wave) without a deploy.
        return env_bool("SIGNUP_OPEN", default=True)

    def get_from_email(self) -> str:
        return settings.DEFAULT_FROM_EMAIL
