from django.conf import settings
from django.utils.functional import SimpleLazyObject

from marketplace.selectors import seller_profile_for_user


def site(request):
    """What the base layout needs on every page. Lazy: a page that does not show a
    value does not pay for its query."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "PAYMENT_SIMULATOR": settings.PAYMENT_SIMULATOR,
        "nav_seller_profile": SimpleLazyObject(lambda: seller_profile_for_user(request.user))
        if hasattr(request, "user")
        else None,
    }
