from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site

from config.env import env_bool
from marketplace.hooks import account_email_send, email_confirmed
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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then hand the message to messaging (registered hook):
        it is logged, sent after commit and retried like every email of the site. The
        account it concerns, when there is one, gets the notifications the parity test
        lists (security notices yes, address confirmations no)."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        user = context.get("user")
        if not account_email_send(
            template=template_prefix,
            to=email,
            message=message,
            user=user if getattr(user, "pk", None) else None,
        ):
            message.send()

    def confirm_email(self, request, email_address):
        """Once an address is verified, guest orders placed with it join the account
        (orders' `email confirmed` hook)."""
        confirmed = super().confirm_email(request, email_address)
        email_confirmed(user=email_address.user, email=email_address.email)
        return confirmed
