from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from catalog.media import media_serve
from catalog.sitemaps import SITEMAPS
from marketplace.ratelimits import admin_login_limited
from marketplace.views import healthz, robots_txt

ADMIN_URL = settings.ADMIN_URL

admin.site.site_header = "Home Craft 3D staff"
admin.site.site_title = "Home Craft 3D staff"
# Staff sign in through allauth's login, which asks for the second factor; the admin's
# own password-only form is never used (marketplace.middleware.StaffMFAMiddleware
# sends staff without two-factor to set it up).
admin.site.login = secure_admin_login(admin.site.login)
# Failed admin logins are limited per IP and per username (marketplace/ratelimits.py).
admin.site.login = admin_login_limited(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("robots.txt", robots_txt, {"admin_path": f"/{ADMIN_URL}"}, name="robots"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path(ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("catalog.urls")),
    path("", include("catalog.urls_social")),
    path("", include("messaging.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("refunds.urls")),
    path("", include("downloads.urls")),
    path("", include("moderation.urls")),
    path("", include("analytics.urls")),
    path("", include("accounts.urls")),
    path("", include("marketplace.urls")),
]

if not settings.USE_S3:
    # Embedded default: public media (images, avatars) from the local folder, a
    # non-public listing's files only to its seller and staff (catalog/media.py).
    # Private digital files have no URL at all; downloads/ streams them after its checks.
    urlpatterns += [
        re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", media_serve, name="media")
    ]

if settings.BENCH_FLOOR_PAGE:
    # Load benchmarks only (docs/PERFORMANCE.md): the bare-Django floor page. Off unless
    # BENCH_FLOOR_PAGE is set; anonymous GET when on.
    from marketplace.bench import floor_page

    urlpatterns += [path("bench/floor/", floor_page, name="bench-floor")]
# A lost database is a 503 page even when it fails outside a view (marketplace/degrade.py).
handler500 = "marketplace.degrade.server_error"
