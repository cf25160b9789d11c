"""Who may use a view. Every view in the project states its rule with one of these.

- `verified_email_required` / `VerifiedEmailRequiredMixin`: a registered-only feature.
  Anonymous visitors go to log in; a user without a verified address is shown the
  verify-your-email page and a fresh confirmation is sent (allauth, cooled down).
- `SellerRequiredMixin`: verified and has a shop; others are sent to "Become a seller".
"""

from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.decorators import method_decorator

from marketplace.selectors import seller_profile_for_user

__all__ = ["SellerRequiredMixin", "VerifiedEmailRequiredMixin", "verified_email_required"]


class VerifiedEmailRequiredMixin:
    @method_decorator(verified_email_required)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)


class SellerRequiredMixin(VerifiedEmailRequiredMixin):
    """Sets `self.seller_profile` for the view."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.seller_profile = seller_profile_for_user(request.user)
            if self.seller_profile is None:
                messages.info(request, "Open your shop first: it takes a minute.")
                return redirect("marketplace:seller-profile-create")
        return super().dispatch(request, *args, **kwargs)
