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
- `active_account_required` / `ActiveAccountRequiredMixin`: posting, selling, reviewing,
  reporting. Verified as above, and not suspended: a suspended user gets the 403 page
  `account/suspended.html`, which says why and links to the statement of reasons.
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


def unverified_response(request):
    """The verify-your-email page (403), with a fresh confirmation email."""
    send_verification_email_for_user(request, request.user)
    return render(request, "account/verified_email_required.html", status=403)


def verified_email_required(view_func):
    @login_required
    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if not user_has_verified_email(request.user):
            return unverified_response(request)
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


def suspended_response(request):
    # The user row carries the flag (moderation keeps it); the statement of reasons is the
    # newest decision about them, looked up through the audit hook so marketplace does not
    # import moderation.
    from marketplace.audit import suspension_statement_url

    return render(
        request,
        "account/suspended.html",
        {"statement_url": suspension_statement_url(request.user)},
        status=403,
    )


def active_account_required(view_func):
    @verified_email_required
    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if request.user.is_suspended:
            return suspended_response(request)
        return view_func(request, *args, **kwargs)

    return wrapped


class ActiveAccountRequiredMixin:
    """Verified and not suspended. Put it first in the bases, before
    `SellerRequiredMixin`, so a suspended seller gets the suspension page, not a redirect."""

    @method_decorator(active_account_required)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)
