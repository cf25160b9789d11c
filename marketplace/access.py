"""Who may use a view. Every view in the project states its rule with one of these.

- `verified_email_required` / `VerifiedEmailRequiredMixin`: a registered-only feature.
  Anonymous visitors go to log in; a signed-in user without a verified address gets
  the verify-your-email page (403) and a fresh confirmation email (allauth's cooldown
  stops repeats).
- `SellerRequiredMixin`: verified and has a shop; others are sent to "Become a seller".
- `staff_required` / `StaffRequiredMixin`: staff pages outside the admin. Anonymous
  visitors go to log in; anyone signed in who is not staff gets a 404, the same answer
  as for a page that does not exist (staff pages are not advertised). Staff without
  two-factor authentication are sent to set it up first (the admin too, through
  `marketplace.middleware.StaffMFAMiddleware`).
"""

from functools import wraps

# allauth's own decorator answers 200 and re-reads EmailAddress itself; we keep one
# definition of "verified" (marketplace.selectors) and the 403. allauth is pinned <66.
from allauth.account.internal.flows.email_verification import (
    send_verification_email_for_user,
)
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator

from marketplace.selectors import seller_profile_for_user, user_has_verified_email


def verified_email_required(view_func):
    @login_required
    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if not user_has_verified_email(request.user):
            send_verification_email_for_user(request, request.user)
            return render(request, "account/verified_email_required.html", status=403)
        return view_func(request, *args, **kwargs)

    return wrapped


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


def staff_mfa_missing(user) -> bool:
    """A signed-in staff member without an authenticator app (TOTP) set up."""
    return bool(
        user.is_authenticated and user.is_staff and not is_mfa_enabled(user, types=["totp"])
    )


def staff_mfa_setup_redirect(request):
    messages.warning(
        request,
        "Staff pages need two-factor authentication. Set up an authenticator app first.",
    )
    return redirect_to_login(
        request.get_full_path(), login_url=reverse("mfa_activate_totp"), redirect_field_name="next"
    )


def staff_required(view_func):
    @login_required
    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        if staff_mfa_missing(request.user):
            return staff_mfa_setup_redirect(request)
        return view_func(request, *args, **kwargs)

    return wrapped


class StaffRequiredMixin:
    @method_decorator(staff_required)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)
