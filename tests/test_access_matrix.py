"""Every URL pattern × every role: the answer each role gets, so access cannot regress.

HOW TO CLASSIFY A NEW URL (one line): add its name to ACCESS below as
    "app:name": Route(POLICY, kwargs_builder),
where POLICY says who may use it (the policies sit just above ACCESS; each lists the
answer every role gets for GET and POST) and kwargs_builder makes the URL's arguments
from the test world (tests/world.py: `w.order`, `w.review`, `w.printed`…; add an object
there if the URL points at something new). An unclassified pattern fails
`test_every_url_pattern_is_classified` with "classify <name> in ACCESS table". A URL
whose answer for one role differs from its policy passes `overrides={role: answer}`.
Admin URLs are classified by the ADMIN_PREFIX rule, not one by one.

Roles (tests/world.py): anonymous; guest (anonymous, the URL carries the guest order's
`?t=` token where it takes one); buyer (verified, owns the paid order, wrote the review,
asked for the refund); other_buyer; seller (owns the listings, sold the order);
other_seller; staff; suspended (a seller whose account moderation suspended: reads,
never sells, posts, messages, reviews or reports).

Answers: an int is the exact status; LOGIN = redirect to log in; SHOP = redirect to
"open your shop"; AWAY = any other redirect; ACTS = the view let the role in (2xx, a
redirect that is not LOGIN/SHOP, a 400 form error or a 429), which is what a POST with
an empty form shows. Nothing may ever answer 500. Every request runs in a savepoint
rolled back afterwards, so one role's POST cannot change what the next role sees.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.urls import ADMIN_URL
from orders.models import Order
from tests.world import ROLES, build_world, client_for, request_in_savepoint

pytestmark = pytest.mark.django_db

LOGIN, SHOP, AWAY, ACTS = "LOGIN", "SHOP", "AWAY", "ACTS"
ADMIN_PREFIX = ADMIN_URL
# What a suspended user gets when they try to sell, post, message, review or report.
REFUSED = 403

SIGNED_IN = ("buyer", "other_buyer", "seller", "other_seller", "staff", "suspended")
NOT_STAFF = ("buyer", "other_buyer", "seller", "other_seller", "suspended")
SELLERS = ("seller", "other_seller", "suspended")  # the three people with a shop
GATE = {"anonymous": LOGIN, "guest": LOGIN}  # signed-in only: visitors go to log in
NOT_SELLERS = {"buyer": SHOP, "other_buyer": SHOP, "staff": SHOP}  # sent to open a shop


def _roles(default, **answers) -> dict:
    return {role: answers.get(role, default) for role in ROLES}


@dataclass(frozen=True)
class Policy:
    name: str
    get: dict
    post: dict


def _policy(name, get, post, **common) -> Policy:
    """`common` answers hold for both methods (the gate before the view runs)."""
    return Policy(name, get={**get, **common}, post={**post, **common})


# ------------------------------------------------------------------------------
# Policies: who may use a view, as the answer each role gets for GET and POST.
# ------------------------------------------------------------------------------
# Anyone reads it; it takes no POST.
PUBLIC = Policy("PUBLIC", get=_roles(200), post=_roles(405))
# Anyone reads it, whatever the method (function views that only read).
PUBLIC_ANY_METHOD = Policy("PUBLIC_ANY_METHOD", get=_roles(200), post=_roles(200))
# Anyone; POST only (the cart's buttons).
PUBLIC_POST = Policy("PUBLIC_POST", get=_roles(405), post=_roles(ACTS))
# Anyone with a cart; with an empty one (as here) GET goes back to the cart.
CHECKOUT = Policy("CHECKOUT", get=_roles(AWAY), post=_roles(ACTS))
# Public media files (embedded default only). The world's files live in a temporary
# folder the pattern does not serve, so this checks a missing file: 404, never 500.
MEDIA = Policy("MEDIA", get=_roles(404), post=_roles(404))
# allauth, for people not signed in (a signed-in user is sent on).
ANONYMOUS_ONLY = Policy(
    "ANONYMOUS_ONLY",
    get=_roles(AWAY, anonymous=200, guest=200),
    post=_roles(AWAY, anonymous=ACTS, guest=ACTS),
)
# allauth pages anyone may read ("check your email", "password changed"...).
ACCOUNT_PAGE = Policy("ACCOUNT_PAGE", get=_roles(200), post=_roles(405))
ACCOUNT_FORM = Policy("ACCOUNT_FORM", get=_roles(200), post=_roles(ACTS))
# Signed in, verified or not: allauth's account pages.
LOGIN_ONLY = _policy("LOGIN_ONLY", get=_roles(200), post=_roles(ACTS), **GATE)
# Verified email: a registered-only page about the requester's own things.
VERIFIED = _policy("VERIFIED", get=_roles(200), post=_roles(405), **GATE)
VERIFIED_FORM = _policy("VERIFIED_FORM", get=_roles(200), post=_roles(ACTS), **GATE)
# Verified, POST only (favorite, wishlist, report). Saving things for later is not
# posting: a suspended user may still do it.
VERIFIED_POST = _policy("VERIFIED_POST", get=_roles(405), post=_roles(ACTS), **GATE)
# Reporting is posting: a suspended user is refused (whatever the method).
REPORT_POST = _policy("REPORT_POST", get=_roles(405), post=_roles(ACTS), **GATE, suspended=REFUSED)
# The review form: the product's buyer writes; anyone else signed in reads why not.
REVIEWER = _policy("REVIEWER", get=_roles(403, buyer=200), post=_roles(403, buyer=ACTS), **GATE)
# The author's own content, POST only: anyone else's is a 404.
AUTHOR_POST = _policy("AUTHOR_POST", get=_roles(405), post=_roles(404, buyer=ACTS), **GATE)
# Verified and has a shop: the seller's workspace. Non-sellers are sent to open a shop.
# A suspended seller reads their lists; every form that sells (opening it included) is
# the suspension page (ActiveAccountRequiredMixin, first in the bases).
SELLER = _policy("SELLER", get=_roles(200), post=_roles(405), **GATE, **NOT_SELLERS)
SELLER_FORM = _policy(
    "SELLER_FORM",
    get=_roles(200),
    post=_roles(ACTS),
    **GATE,
    **NOT_SELLERS,
    suspended=REFUSED,
)
# Payout set-up: a suspended seller may still be paid what they are owed.
SELLER_PAYOUT_POST = _policy(
    "SELLER_PAYOUT_POST", get=_roles(405), post=_roles(ACTS), **GATE, **NOT_SELLERS
)
SELLER_PAYOUT_REDIRECT = _policy(
    "SELLER_PAYOUT_REDIRECT", get=_roles(AWAY), post=_roles(405), **GATE, **NOT_SELLERS
)
# One seller's object (a sale, a refund request on their line, a shipping profile):
# the seller reads and acts; other sellers get 404.
OWNER_SELLER = _policy(
    "OWNER_SELLER",
    get=_roles(404, seller=200),
    post=_roles(405),
    **GATE,
    **NOT_SELLERS,
)
OWNER_SELLER_FORM = _policy(
    "OWNER_SELLER_FORM",
    get=_roles(404, seller=200),
    post=_roles(404, seller=ACTS),
    **GATE,
    **NOT_SELLERS,
)
OWNER_SELLER_POST = _policy(
    "OWNER_SELLER_POST",
    get=_roles(405),
    post=_roles(404, seller=ACTS),
    **GATE,
    **NOT_SELLERS,
)
# A listing (its kwargs give the suspended seller their own draft): the owner edits;
# a suspended owner gets the suspension page (before the method is looked at) and
# changes nothing; they see the draft in their listings (SELLER).
LISTING_OWNER_FORM = _policy(
    "LISTING_OWNER_FORM",
    get=_roles(404, seller=200),
    post=_roles(404, seller=ACTS),
    **GATE,
    **NOT_SELLERS,
    suspended=REFUSED,
)
LISTING_OWNER_POST = _policy(
    "LISTING_OWNER_POST",
    get=_roles(405),
    post=_roles(404, seller=ACTS),
    **GATE,
    **NOT_SELLERS,
    suspended=REFUSED,
)
# The simulator's stand-ins for Stripe's onboarding and Express dashboard: the
# account's seller only; anyone else signed in 404.
ACCOUNT_OWNER = _policy("ACCOUNT_OWNER", get=_roles(404, seller=200), post=_roles(405), **GATE)
ACCOUNT_OWNER_FORM = _policy(
    "ACCOUNT_OWNER_FORM", get=_roles(404, seller=200), post=_roles(404, seller=ACTS), **GATE
)
# The buyer of an order, or a guest holding its token: everyone else 404.
BUYER_OWNER = Policy("BUYER_OWNER", get=_roles(404, buyer=200, guest=200), post=_roles(405))
BUYER_OWNER_POST = Policy(
    "BUYER_OWNER_POST", get=_roles(405), post=_roles(404, buyer=ACTS, guest=ACTS)
)
BUYER_OWNER_FORM = Policy(
    "BUYER_OWNER_FORM",
    get=_roles(404, buyer=200, guest=200),
    post=_roles(404, buyer=ACTS, guest=ACTS),
)
# A paid file: whoever owns it (buyer, guest with the token), its seller, and staff.
DOWNLOAD = Policy(
    "DOWNLOAD",
    get=_roles(404, buyer=AWAY, guest=AWAY, seller=AWAY, staff=AWAY),
    post=_roles(405),
)
# A statement of reasons: the person it is about (who may appeal) and staff.
STATEMENT = _policy(
    "STATEMENT",
    get=_roles(404, buyer=200, staff=200),
    post=_roles(404, buyer=ACTS, staff=ACTS),
    **GATE,
)
# Staff pages outside the admin: anonymous to log in, any other non-staff 404.
STAFF = _policy("STAFF", get=_roles(404, staff=200), post=_roles(404, staff=405), **GATE)
STAFF_FORM = _policy("STAFF_FORM", get=_roles(404, staff=200), post=_roles(404, staff=ACTS), **GATE)
STAFF_POST = _policy("STAFF_POST", get=_roles(404, staff=405), post=_roles(404, staff=ACTS), **GATE)
# Stripe's webhooks: CSRF-exempt, POST only, an unsigned body is a 400 for everyone.
STRIPE_WEBHOOK = Policy("STRIPE_WEBHOOK", get=_roles(405), post=_roles(400))
# A bearer link (a signed, expiring download URL; the simulator's hosted checkout):
# whoever holds it, as with Stripe's hosted pages and presigned S3 URLs.
BEARER = Policy("BEARER", get=_roles(200), post=_roles(405))
BEARER_FORM = Policy("BEARER_FORM", get=_roles(200), post=_roles(ACTS))
# Signed in, any account (own notifications, profile, data, MFA pages).
LOGIN_PAGE = _policy("LOGIN_PAGE", get=_roles(200), post=_roles(405), **GATE)
LOGIN_POST = _policy("LOGIN_POST", get=_roles(405), post=_roles(ACTS), **GATE)
# Anyone: a form that needs no account (an intellectual-property notice).
PUBLIC_FORM = Policy("PUBLIC_FORM", get=_roles(200), post=_roles(ACTS))
# Anyone: a permalink that redirects to where the thing is shown.
PUBLIC_REDIRECT = Policy("PUBLIC_REDIRECT", get=_roles(AWAY), post=_roles(405))
# Posting (a question, an answer): verified, not suspended. The form lives on the product
# page, so GET sends the poster there.
ACTIVE_POST = _policy(
    "ACTIVE_POST",
    get=_roles(AWAY, suspended=REFUSED),
    post=_roles(ACTS, suspended=REFUSED),
    **GATE,
)
# Reporting something (the report form): verified, not suspended.
REPORT_FORM = _policy(
    "REPORT_FORM",
    get=_roles(200, suspended=REFUSED),
    post=_roles(ACTS, suspended=REFUSED),
    **GATE,
)
# Contact the seller (a listing, a shop): verified, not suspended, not the seller.
START_THREAD = _policy(
    "START_THREAD",
    get=_roles(200, seller=404, suspended=REFUSED),
    post=_roles(ACTS, seller=404, suspended=REFUSED),
    **GATE,
)
# An order's thread from the buyer's side: the order's buyer (their thread exists: sent
# to it) or its token holder; suspended refused; anyone else 404.
START_ORDER_THREAD = Policy(
    "START_ORDER_THREAD",
    get=_roles(404, anonymous=LOGIN, guest=200, buyer=AWAY, suspended=REFUSED),
    post=_roles(404, anonymous=LOGIN, guest=ACTS, buyer=ACTS, suspended=REFUSED),
)
# An order's thread from the seller's side: a seller on the order (thread exists: sent
# to it); suspended refused; anyone else 404.
START_SALE_THREAD = _policy(
    "START_SALE_THREAD",
    get=_roles(404, seller=AWAY, suspended=REFUSED),
    post=_roles(404, seller=ACTS, suspended=REFUSED),
    **GATE,
)
# A thread: its buyer and seller; staff read it (never post); anyone else 404.
THREAD = _policy(
    "THREAD",
    get=_roles(404, buyer=200, seller=200, staff=200),
    post=_roles(404, buyer=ACTS, seller=ACTS),
    **GATE,
)
THREAD_FILE = Policy(
    "THREAD_FILE",
    get={**_roles(404, buyer=200, seller=200, staff=200), **GATE},
    post=_roles(405),
)
# The requester's own object (a notification): anyone else 404.
OWNER_POST = _policy("OWNER_POST", get=_roles(405), post=_roles(404, buyer=ACTS), **GATE)
OWNER_PAGE = _policy("OWNER_PAGE", get=_roles(404, buyer=AWAY), post=_roles(405), **GATE)
# The subject of a decision (the seller whose listing was taken down): anyone else 404.
SUBJECT_FORM = _policy(
    "SUBJECT_FORM", get=_roles(404, seller=200), post=_roles(404, seller=ACTS), **GATE
)
# Admin: every pattern under ADMIN_PREFIX (test_admin_prefix_rule_covers_the_admin): staff
# only; anyone else is sent to the admin's login page (ADMIN_LOGIN).
# Staff are let in (ADMIN_IN): the page, a redirect, or the admin's own 403 where a
# model refuses adding or deleting (the ledger is append-only).
ADMIN_LOGIN, ADMIN_IN = "ADMIN_LOGIN", "ADMIN_IN"
STAFF_ADMIN = Policy("STAFF_ADMIN", get=_roles(ADMIN_LOGIN, staff=ADMIN_IN), post={})
ADMIN_EXCEPTIONS = {  # the admin's own door
    # allauth's secure_admin_login (config/urls.py): visitors sign in through the site's
    # login (which asks for the second factor); signed-in non-staff are refused.
    "admin:login": _roles(403, anonymous=LOGIN, guest=LOGIN, staff=AWAY),
    "admin:logout": _roles(AWAY, staff=405),  # logging out is a POST
}

# URL names where a suspended user is still let in although their policy refuses them
# (REFUSED), while a suspension rule has not landed. When it does, the test names each
# entry to delete from here. Moderation's enforcement landed: none is left.
SUSPENSION_NOT_ENFORCED_YET: set[str] = set()


@dataclass(frozen=True)
class Route:
    policy: Policy
    kwargs: Callable = lambda w, role: {}
    # The query string a role adds (the guest's token where the URL takes one).
    query: Callable | None = None
    overrides: dict = field(default_factory=dict)  # {role: answer} for GET
    post_overrides: dict = field(default_factory=dict)  # {role: answer} for POST


def _token(w, role):
    return {"t": w.guest_order.access_token} if role == "guest" else {}


def _order(w, role):
    return {"pk": (w.guest_order if role == "guest" else w.order).pk}


def _item(w, role):
    return w.guest_order.items.get(product=w.file) if role == "guest" else w.file_line


def _listing(w, role):
    return {"pk": (w.suspended_draft if role == "suspended" else w.draft).pk}


def _listing_image(w, role):
    if role == "suspended":
        return {"pk": w.suspended_draft.pk, "image_pk": w.suspended_draft.cover_image_id}
    return {"pk": w.draft.pk, "image_pk": w.extra_image.pk}


def _listing_asset(w, role):
    draft = w.suspended_draft if role == "suspended" else w.draft
    return {"pk": draft.pk, "asset_pk": draft.assets.get().pk}


def _product(w, role):
    return {"product_pk": w.file.pk}


def _refund(w, role):
    return {"pk": (w.guest_refund if role == "guest" else w.refund).pk}


# ------------------------------------------------------------------------------
# The table. One line per URL name: Route(POLICY, kwargs builder, ...).
# ------------------------------------------------------------------------------
ACCESS: dict[str, Route] = {
    # site
    "healthz": Route(PUBLIC),
    "robots": Route(PUBLIC),
    "sitemap": Route(PUBLIC_ANY_METHOD),
    "media": Route(MEDIA, lambda w, role: {"path": "products/0/images/missing.webp"}),
    "marketplace:legal-terms": Route(PUBLIC),
    "marketplace:legal-privacy": Route(PUBLIC),
    "marketplace:legal-seller-agreement": Route(PUBLIC),
    "marketplace:seller-profile-create": Route(
        VERIFIED_FORM,  # someone who has a shop is sent to edit it
        overrides=dict.fromkeys(SELLERS, AWAY),
        post_overrides=dict.fromkeys(SELLERS, AWAY),
    ),
    "marketplace:seller-profile-update": Route(SELLER_FORM),
    # allauth
    "account_login": Route(ANONYMOUS_ONLY),
    "account_signup": Route(ANONYMOUS_ONLY),
    "account_logout": Route(ACCOUNT_FORM, overrides={"anonymous": AWAY, "guest": AWAY}),
    "account_inactive": Route(ACCOUNT_PAGE),
    "account_reauthenticate": Route(LOGIN_ONLY),
    "account_request_reauthentication_code": Route(LOGIN_ONLY),
    # no code was requested: back to ask for one
    "account_confirm_reauthentication_code": Route(
        LOGIN_ONLY,
        overrides=dict.fromkeys(SIGNED_IN, AWAY),
        post_overrides=dict.fromkeys(SIGNED_IN, AWAY),
    ),
    "account_email": Route(LOGIN_ONLY),
    "account_email_verification_sent": Route(ACCOUNT_PAGE),
    "account_change_password": Route(LOGIN_ONLY),
    # everyone here has a password: sent to change it
    "account_set_password": Route(LOGIN_ONLY, overrides=dict.fromkeys(SIGNED_IN, AWAY)),
    "account_reset_password": Route(ACCOUNT_FORM),
    # no login is waiting for a code: back to log in
    "account_confirm_login_code": Route(
        ANONYMOUS_ONLY,
        overrides={"anonymous": LOGIN, "guest": LOGIN},
        post_overrides={"anonymous": LOGIN, "guest": LOGIN},
    ),
    "account_confirm_email": Route(
        ACCOUNT_FORM, lambda w, role: {"key": "not-a-key"}, post_overrides=_roles(404)
    ),
    "account_reset_password_from_key_done": Route(ACCOUNT_PAGE),
    "account_reset_password_from_key": Route(
        ACCOUNT_FORM, lambda w, role: {"uidb36": "1", "key": "not-a-key"}
    ),
    "account_reset_password_done": Route(ACCOUNT_PAGE),
    # catalog: public pages
    "catalog:home": Route(PUBLIC),
    "catalog:shop-detail": Route(PUBLIC, lambda w, role: {"slug": w.seller.seller_profile.slug}),
    "catalog:product-detail": Route(PUBLIC, lambda w, role: {"slug": w.file.slug}),
    "catalog:category-detail": Route(PUBLIC, lambda w, role: {"slug": w.file.category.slug}),
    "catalog:browse": Route(PUBLIC),
    "catalog:search": Route(PUBLIC, query=lambda w, role: {"q": "vase"}),
    "catalog:search-suggest": Route(PUBLIC_ANY_METHOD, query=lambda w, role: {"q": "vas"}),
    # catalog: the seller's workspace
    "catalog:seller-listing-list": Route(SELLER),
    "catalog:seller-listing-create": Route(SELLER_FORM),
    "catalog:seller-listing-update": Route(LISTING_OWNER_FORM, _listing),
    "catalog:seller-listing-publish": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-listing-unpublish": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-listing-archive": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-listing-duplicate": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-image-upload": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-image-delete": Route(LISTING_OWNER_POST, _listing_image),
    "catalog:seller-image-cover": Route(LISTING_OWNER_POST, _listing_image),
    "catalog:seller-asset-upload": Route(LISTING_OWNER_POST, _listing),
    "catalog:seller-asset-delete": Route(LISTING_OWNER_POST, _listing_asset),
    "catalog:seller-shipping-list": Route(SELLER),
    "catalog:seller-shipping-create": Route(SELLER_FORM),
    # a suspended seller gets the suspension page before anything is looked up
    "catalog:seller-shipping-update": Route(
        OWNER_SELLER_FORM,
        lambda w, role: {"pk": w.shipping_profile.pk},
        overrides={"suspended": REFUSED},
        post_overrides={"suspended": REFUSED},
    ),
    "catalog:seller-shipping-delete": Route(
        OWNER_SELLER_POST,
        lambda w, role: {"pk": w.shipping_profile.pk},
        overrides={"suspended": REFUSED},
        post_overrides={"suspended": REFUSED},
    ),
    # social: reviews, favorites, wishlist
    "social:review-edit": Route(REVIEWER, _product),
    "social:review-reply": Route(
        OWNER_SELLER_POST,
        lambda w, role: {"review_pk": w.review.pk},
        overrides={"suspended": REFUSED},
        post_overrides={"suspended": REFUSED},
    ),
    "social:review-delete": Route(AUTHOR_POST, lambda w, role: {"review_pk": w.review.pk}),
    "social:favorite-toggle": Route(VERIFIED_POST, _product),
    "social:wishlist-toggle": Route(VERIFIED_POST, _product),
    "social:saved": Route(VERIFIED),
    # orders: cart, the buyer's orders, the seller's sales
    "orders:cart": Route(PUBLIC),
    "orders:cart-add": Route(PUBLIC_POST),
    "orders:cart-update": Route(PUBLIC_POST),
    "orders:cart-ship-to": Route(PUBLIC_POST),
    "orders:wishlist-move-to-cart": Route(VERIFIED_POST, _product),
    "orders:order-list": Route(VERIFIED),
    # staff read any order (support); they do not act for buyers
    "orders:order-detail": Route(BUYER_OWNER, _order, query=_token, overrides={"staff": 200}),
    "orders:order-item-received": Route(
        BUYER_OWNER_POST,
        lambda w, role: {**_order(w, role), "item_pk": _item(w, role).pk},
        query=_token,
    ),
    "orders:order-restore-cart": Route(
        BUYER_OWNER_POST,
        lambda w, role: {"pk": (w.guest_order if role == "guest" else w.unpaid).pk},
        query=_token,
    ),
    "orders:seller-sales": Route(SELLER),
    "orders:seller-sale-detail": Route(OWNER_SELLER, lambda w, role: {"order_pk": w.order.pk}),
    "orders:seller-packing-slip": Route(OWNER_SELLER, lambda w, role: {"order_pk": w.order.pk}),
    "orders:seller-item-ship": Route(OWNER_SELLER_POST, lambda w, role: {"item_pk": w.line.pk}),
    # payments: checkout, Connect onboarding, the simulator, staff pages
    "payments:checkout": Route(CHECKOUT),
    # the buyer's cancel: back to the cart (unpaid) or the order (paid after all)
    "payments:checkout-cancel": Route(
        BUYER_OWNER,
        lambda w, role: {"order_pk": (w.guest_order if role == "guest" else w.unpaid).pk},
        query=_token,
        overrides={"buyer": AWAY, "guest": AWAY},
    ),
    "payments:webhook-platform": Route(STRIPE_WEBHOOK),
    "payments:webhook-connect": Route(STRIPE_WEBHOOK),
    "payments:connect": Route(SELLER),
    "payments:connect-start": Route(SELLER_PAYOUT_POST),
    "payments:connect-return": Route(SELLER_PAYOUT_REDIRECT),
    "payments:connect-refresh": Route(SELLER_PAYOUT_REDIRECT),
    "payments:connect-sync": Route(SELLER_PAYOUT_POST),
    "payments:connect-dashboard": Route(SELLER_PAYOUT_POST),
    "payments:payouts-dashboard": Route(SELLER),
    "payments:simulator-checkout": Route(
        BEARER_FORM, lambda w, role: {"session_id": w.unpaid.stripe_checkout_session_id}
    ),
    "payments:simulator-onboarding": Route(
        ACCOUNT_OWNER_FORM,
        lambda w, role: {"account_id": w.seller.stripe_account.stripe_account_id},
        query=lambda w, role: {"link": w.onboarding_link},
    ),
    "payments:simulator-dashboard": Route(
        ACCOUNT_OWNER, lambda w, role: {"account_id": w.seller.stripe_account.stripe_account_id}
    ),
    "payments:simulator-order-money": Route(STAFF_FORM, _order),
    "payments:staff-dispute-list": Route(STAFF),
    "payments:staff-reconciliation-list": Route(STAFF),
    "payments:staff-reconciliation-export": Route(
        STAFF, query=lambda w, role: {"date_from": "2020-01-01", "date_to": "2099-12-31"}
    ),
    "payments:staff-reconciliation-order": Route(STAFF, lambda w, role: {"pk": w.order.pk}),
    "payments:staff-refund-allocate": Route(
        STAFF_FORM, lambda w, role: {"pk": w.outside_refund.pk}
    ),
    # refunds
    "refunds:request-create": Route(
        BUYER_OWNER_FORM,
        lambda w, role: {"order_pk": _item(w, role).order_id, "item_pk": _item(w, role).pk},
        query=_token,
    ),
    "refunds:refund-list": Route(VERIFIED),
    "refunds:refund-detail": Route(BUYER_OWNER, _refund, query=_token),
    "refunds:refund-cancel": Route(BUYER_OWNER_POST, _refund, query=_token),
    "refunds:seller-refund-list": Route(SELLER),
    "refunds:seller-refund-detail": Route(OWNER_SELLER, lambda w, role: {"pk": w.refund.pk}),
    "refunds:seller-refund-approve": Route(OWNER_SELLER_FORM, lambda w, role: {"pk": w.refund.pk}),
    "refunds:seller-refund-decline": Route(OWNER_SELLER_FORM, lambda w, role: {"pk": w.refund.pk}),
    "refunds:seller-line-refund": Route(OWNER_SELLER_FORM, lambda w, role: {"item_pk": w.line.pk}),
    "refunds:staff-refund-list": Route(STAFF),
    "refunds:staff-refund-retry": Route(STAFF_POST, lambda w, role: {"pk": w.refund.pk}),
    "refunds:staff-line-refund": Route(STAFF_FORM, lambda w, role: {"item_pk": w.line.pk}),
    # downloads
    "downloads:library": Route(VERIFIED),
    "downloads:asset": Route(
        DOWNLOAD,
        lambda w, role: {"product_pk": w.file.pk, "asset_pk": w.asset.pk},
        query=_token,
    ),
    "downloads:bundle": Route(
        DOWNLOAD,
        _product,
        query=_token,
        overrides={"buyer": 200, "guest": 200, "seller": 200, "staff": 200},
    ),
    "downloads:file": Route(
        BEARER, lambda w, role: {"signed": w.signed_link.rstrip("/").rsplit("/", 1)[1]}
    ),
    # moderation
    "moderation:statement": Route(STATEMENT, lambda w, role: {"pk": w.decision.pk}),
    "moderation:review-report": Route(REPORT_POST, lambda w, role: {"review_pk": w.review.pk}),
    "moderation:report": Route(
        REPORT_FORM,
        lambda w, role: {"kind": "listing", "pk": w.printed.pk},
        query=lambda w, role: (
            {"order": w.guest_order.pk, "t": w.guest_order.access_token} if role == "guest" else {}
        ),
        overrides={"guest": 200},
        post_overrides={"guest": ACTS},
    ),
    "moderation:staff-queue": Route(STAFF),
    "moderation:staff-report-decide": Route(STAFF_POST, lambda w, role: {"pk": w.report.pk}),
    "moderation:staff-audit-log": Route(STAFF),
    "moderation:staff-suspensions": Route(STAFF),
    "moderation:staff-suspension-lift": Route(STAFF_POST, lambda w, role: {"pk": w.suspension.pk}),
    "moderation:ip-notice": Route(PUBLIC_FORM),
    "moderation:ip-counter-notice": Route(SUBJECT_FORM, lambda w, role: {"pk": w.ip_takedown.pk}),
    # allauth: two-factor authentication. Only staff have an authenticator app here, and
    # nobody signed in recently (force_login): pages that change two-factor first send
    # the user to reauthenticate; pages about an authenticator or codes they do not
    # have are a 404.
    "mfa_index": Route(LOGIN_PAGE),
    # no login is waiting for a second factor: back to log in
    "mfa_authenticate": Route(
        ANONYMOUS_ONLY,
        overrides={"anonymous": LOGIN, "guest": LOGIN},
        post_overrides={"anonymous": LOGIN, "guest": LOGIN},
    ),
    # without an authenticator: reauthenticate with the password instead
    "mfa_reauthenticate": Route(LOGIN_ONLY, overrides=dict.fromkeys(NOT_STAFF, AWAY)),
    "mfa_activate_totp": Route(LOGIN_ONLY, overrides=dict.fromkeys(SIGNED_IN, AWAY)),
    "mfa_deactivate_totp": Route(
        LOGIN_ONLY,
        overrides={**dict.fromkeys(NOT_STAFF, 404), "staff": AWAY},
        post_overrides=dict.fromkeys(NOT_STAFF, 404),
    ),
    "mfa_view_recovery_codes": Route(LOGIN_PAGE, overrides=dict.fromkeys(SIGNED_IN, 404)),
    "mfa_generate_recovery_codes": Route(LOGIN_ONLY, overrides=dict.fromkeys(SIGNED_IN, AWAY)),
    "mfa_download_recovery_codes": Route(
        LOGIN_PAGE,
        overrides=dict.fromkeys(SIGNED_IN, 404),
        post_overrides=dict.fromkeys(SIGNED_IN, 404),
    ),
    # messaging: notifications and email
    "messaging:notification-list": Route(LOGIN_PAGE),
    "messaging:notification-open": Route(OWNER_POST, lambda w, role: {"pk": w.notification.pk}),
    "messaging:notification-read-all": Route(LOGIN_POST),
    "messaging:preferences": Route(LOGIN_ONLY),
    "messaging:staff-emails": Route(STAFF),
    "messaging:staff-email-retry": Route(STAFF_POST, lambda w, role: {"pk": w.failed_email.pk}),
    # messaging: questions, answers, threads
    "messaging:question-detail": Route(PUBLIC_REDIRECT, lambda w, role: {"pk": w.question.pk}),
    "messaging:question-ask": Route(ACTIVE_POST, _product),
    "messaging:answer-create": Route(ACTIVE_POST, lambda w, role: {"pk": w.question.pk}),
    "messaging:seller-question-list": Route(SELLER),
    "messaging:inbox": Route(VERIFIED),
    "messaging:thread": Route(THREAD, lambda w, role: {"pk": w.conversation.pk}),
    "messaging:attachment": Route(
        THREAD_FILE,
        lambda w, role: {"pk": w.conversation.pk, "message_pk": w.picture_message.pk},
    ),
    "messaging:start-listing": Route(START_THREAD, _product),
    "messaging:start-shop": Route(
        START_THREAD, lambda w, role: {"slug": w.seller.seller_profile.slug}
    ),
    "messaging:start-order": Route(
        START_ORDER_THREAD,
        lambda w, role: {"order_pk": _order(w, role)["pk"], "seller_pk": w.seller.pk},
        query=_token,
    ),
    "messaging:start-order-buyer": Route(
        START_SALE_THREAD, lambda w, role: {"order_pk": w.order.pk}
    ),
    # payments: staff
    "payments:staff-stripe-event-reprocess": Route(
        STAFF_FORM, lambda w, role: {"pk": w.stripe_event.pk}
    ),
    # analytics
    "analytics:seller-analytics": Route(SELLER),
    "analytics:seller-analytics-export": Route(SELLER),
    "analytics:staff-ops": Route(STAFF),
    "analytics:staff-searches": Route(STAFF),
    # accounts: the user's own data and account
    "accounts:data-export": Route(LOGIN_ONLY),
    "accounts:data-export-download": Route(OWNER_PAGE, lambda w, role: {"pk": w.data_export.pk}),
    "accounts:delete": Route(LOGIN_ONLY),
    "marketplace:profile": Route(LOGIN_ONLY),
    "marketplace:legal-refund-policy": Route(PUBLIC),
    "marketplace:legal-content-policy": Route(PUBLIC),
    # everyone here accepted the documents in force: sent on
    "marketplace:legal-accept": Route(LOGIN_ONLY, overrides=dict.fromkeys(SIGNED_IN, AWAY)),
}


# ------------------------------------------------------------------------------
# Walking the URLconf
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    key: str  # "namespace:name", or the route for a nameless pattern ("media")
    route: str
    name: str | None  # reversible name
    namespace: str
    params: tuple = ()  # the pattern's named arguments


def url_patterns(patterns=None, prefix: str = "", namespace: str = "") -> list[Pattern]:
    """Every URL pattern of the project, admin and allauth included, depth first."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found += url_patterns(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            key = name or ("media" if "(?P<path>" in route else route)
            found.append(
                Pattern(
                    key=key,
                    route=route,
                    name=name,
                    namespace=namespace,
                    params=tuple(entry.pattern.regex.groupindex),
                )
            )
    return found


def is_admin(pattern: Pattern) -> bool:
    return pattern.route.lstrip("^").startswith(ADMIN_PREFIX)


def _url(pattern: Pattern, route: Route, world, role: str) -> str:
    kwargs = route.kwargs(world, role)
    if pattern.name:
        path = reverse(pattern.name, kwargs=kwargs)
    else:  # the media pattern
        path = settings.MEDIA_URL + kwargs["path"]
    query = (route.query or (lambda w, r: {}))(world, role)
    return f"{path}?{urlencode(query)}" if query else path


def _matches(answer, response) -> bool:
    status = response.status_code
    location = response.get("Location", "")
    to_login = status == 302 and location.startswith(reverse("account_login"))
    to_shop = status == 302 and location.startswith(reverse("marketplace:seller-profile-create"))
    if answer == LOGIN:
        return to_login
    if answer == ADMIN_LOGIN:
        return status == 302 and location.startswith(reverse("admin:login"))
    if answer == ADMIN_IN:
        return status == 403 or _matches(ACTS, response)
    if answer == SHOP:
        return to_shop
    if answer == AWAY:
        return status in (301, 302, 303) and not to_login and not to_shop
    if answer == ACTS:
        ok = 200 <= status < 300 or status in (301, 302, 303, 400, 429)
        to_admin_login = status == 302 and location.startswith(reverse("admin:login"))
        return ok and not to_login and not to_shop and not to_admin_login
    return status == answer


def _describe(response) -> str:
    where = response.get("Location", "")
    return f"{response.status_code}{' → ' + where if where else ''}"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    world = build_world(django_capture_on_commit_callbacks)
    from payments.gateway import get_gateway

    world.onboarding_link = (
        get_gateway()
        .create_account_link(
            account_id=world.seller.stripe_account.stripe_account_id,
            refresh_url="/seller/payouts/refresh/",
            return_url="/seller/payouts/return/",
        )
        .split("link=", 1)[1]
    )
    return world


def _check(patterns: list[Pattern], world, route_for) -> list[str]:
    clients = {role: client_for(role, world) for role in ROLES}
    wrong = []
    for pattern in patterns:
        route = route_for(pattern)
        for method, answers, overrides in (
            ("get", route.policy.get, route.overrides),
            ("post", route.policy.post, route.post_overrides),
        ):
            for role in ROLES:
                answer = overrides.get(role, answers[role])
                url = _url(pattern, route, world, role)
                response = request_in_savepoint(clients[role], method, url)
                if answer == REFUSED and pattern.key in SUSPENSION_NOT_ENFORCED_YET:
                    if response.status_code == REFUSED:
                        wrong.append(
                            f"{pattern.key} now refuses {role}: "
                            "remove it from SUSPENSION_NOT_ENFORCED_YET"
                        )
                        continue
                    answer = ACTS
                if response.status_code >= 500 or not _matches(answer, response):
                    wrong.append(
                        f"{pattern.key} [{route.policy.name}] {method.upper()} {url} as "
                        f"{role}: expected {answer}, got {_describe(response)}"
                    )
    return wrong


def unclassified(patterns: list[Pattern], table: dict) -> list[str]:
    return [
        f"classify {p.key} ({p.route}) in ACCESS table"
        for p in patterns
        if p.key not in table and not is_admin(p)
    ]


def test_every_url_pattern_is_classified():
    # given every pattern of the project
    patterns = url_patterns()
    assert len(patterns) > 100  # the walk found admin, allauth and ours
    # then each is in ACCESS, or under the admin prefix
    missing = unclassified(patterns, ACCESS)
    assert not missing, "\n".join(missing)
    # and ACCESS names nothing that no longer exists (a stale line hides nothing)
    keys = {p.key for p in patterns}
    assert not [k for k in ACCESS if k not in keys], "stale ACCESS entries"


def test_a_new_url_fails_until_it_is_classified():
    # given the table without one of ours (as when someone adds a URL)
    table = {k: v for k, v in ACCESS.items() if k != "refunds:refund-list"}
    # then the check names it
    assert unclassified(url_patterns(), table) == [
        "classify refunds:refund-list (refunds/) in ACCESS table"
    ]


def test_admin_prefix_rule_covers_the_admin():
    # every admin pattern (namespace "admin") and nothing else is under the prefix
    patterns = url_patterns()
    admin = [p for p in patterns if p.name and p.name.startswith("admin:")]
    assert len(admin) > 50
    assert all(is_admin(p) for p in admin), [p.route for p in admin if not is_admin(p)]
    assert all(p.namespace == "admin" for p in patterns if is_admin(p))


def test_every_url_answers_each_role_as_classified(world):
    patterns = [p for p in url_patterns() if not is_admin(p)]
    wrong = _check(patterns, world, lambda p: ACCESS[p.key])
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


def _admin_kwargs(pattern: Pattern) -> dict:
    """Arguments for an admin URL: a real object of the model where there is one."""
    from django.contrib import admin
    from django.contrib.contenttypes.models import ContentType

    kwargs = {}
    suffix_model = {
        f"admin:{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry
    }
    model = next(
        (m for prefix, m in suffix_model.items() if (pattern.name or "").startswith(prefix + "_")),
        None,
    )
    if pattern.name == "admin:auth_user_password_change":
        model = get_user_model()
    if pattern.name == "admin:view_on_site":
        model = Order
    first = model._default_manager.order_by("pk").first() if model else None
    for param in pattern.params:
        if param == "app_label":
            kwargs[param] = re.search(r"\(\?P<app_label>([\w]+)", pattern.route).group(1)
        elif param in ("object_id", "id"):
            kwargs[param] = str(first.pk) if first else "1"
        elif param == "content_type_id":
            kwargs[param] = str(ContentType.objects.get_for_model(Order).pk)
    return kwargs


def test_every_admin_page_is_staff_only(world):
    # given a staff member with every permission (the admin's models are theirs)
    type(world.staff).objects.filter(pk=world.staff.pk).update(is_superuser=True)
    clients = {role: client_for(role, world) for role in ("anonymous", "buyer", "seller", "staff")}
    wrong = []
    # when every named admin page is opened by each
    for pattern in url_patterns():
        if not is_admin(pattern) or not pattern.name:
            continue  # nameless admin patterns redirect to named ones
        url = reverse(pattern.name, kwargs=_admin_kwargs(pattern))
        answers = ADMIN_EXCEPTIONS.get(pattern.key, STAFF_ADMIN.get)
        for role, client in clients.items():
            response = request_in_savepoint(client, "get", url)
            # then staff get the page, anyone else the admin's login; never a 500
            if response.status_code >= 500 or not _matches(answers[role], response):
                wrong.append(
                    f"{pattern.key} GET {url} as {role}: expected {answers[role]}, "
                    f"got {_describe(response)}"
                )
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)
