"""Home Craft 3D settings: one module, driven by environment variables.

Every integration below is switched on by its variable and falls back to the embedded
default when the variable is absent: SQLite, local-memory cache with eager Celery
tasks, media on the local filesystem, email to the console and var/outbox, and the
local payment simulator. README.md lists every variable.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", default=False)
# The fallback key is only good for the embedded default; `check --deploy` flags it.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-embedded-default-do-not-use-in-production")
# Rotation: the previous key(s), comma-separated, still verify sessions, password-reset
# links and signed download links until they expire (docs/OPERATIONS.md, Rotating secrets).
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key-fallbacks
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = "Home Craft 3D"
# Absolute links in emails and Stripe redirects (no request at hand in a Celery task).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1
# Where the Django admin is mounted (config/urls.py); not advertised in robots.txt.
ADMIN_URL = env_str("ADMIN_URL", "admin/")

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",  # /sitemap.xml (catalog/sitemaps.py)
    "django.contrib.postgres",  # search lookups (trigram); inert on SQLite
    "django.forms",  # FORM_RENDERER below finds Django's widget templates here
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    # Two-factor (TOTP + recovery codes) for everyone; required for staff.
    # https://docs.allauth.org/en/latest/mfa/configuration.html
    "allauth.mfa",
    "storages",
    "django_countries",
    "csp",
]
LOCAL_APPS = [
    "marketplace",
    "catalog",
    "orders",
    "payments",
    "refunds",
    "downloads",
    "messaging",
    "moderation",
    "analytics",
    "accounts",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # First, so every log line of the request (even from other middleware) carries the rid.
    "marketplace.observability.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # NUL in a URL or query string: 400 before any lookup (PostgreSQL refuses NUL).
    "marketplace.security.RejectNulMiddleware",
    # Content-Security-Policy (below) and Permissions-Policy on every response.
    "csp.middleware.CSPMiddleware",
    "marketplace.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Adds Retry-After to any 429 that lacks one (allauth's).
    "marketplace.ratelimits.RetryAfterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "marketplace.middleware.StaffMFAMiddleware",
    "marketplace.middleware.LegalConsentMiddleware",
    # Turns django-ratelimit's Ratelimited into RATELIMIT_VIEW's 429 page.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, so its process_exception runs first: a lost database is a 503 page, not a 500.
    "marketplace.degrade.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.site",
                "orders.context_processors.cart",
                "payments.context_processors.stripe_status",
                "messaging.context_processors.notifications",
                "messaging.inbox_context.inbox",
            ],
            "builtins": ["marketplace.templatetags.money"],
        },
    }
]
# Our own field/form templates so every form renders labels, help and errors alike.
FORM_RENDERER = "marketplace.forms.SiteFormRenderer"

# ------------------------------------------------------------------------------
# Database: DATABASE_URL, else a SQLite file under var/
# ------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        _db_options = DATABASES["default"].setdefault("OPTIONS", {})
        # An unreachable database fails a request in seconds (the 503 page), not after
        # the kernel's TCP timeout; no statement holds a worker longer than
        # DB_STATEMENT_TIMEOUT_MS (migrations and long commands can raise it).
        _db_options["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3)
        # Search typo tolerance: a title word this similar to the query counts as a match
        # (pg_trgm's `%>`; 0.6 by default misses "planer" → "planter").
        _db_options["options"] = (
            "-c pg_trgm.word_similarity_threshold=0.5"
            f" -c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 30000)}"
            f" -c lock_timeout={env_int('DB_LOCK_TIMEOUT_MS', 10000)}"
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # runserver is threaded and tasks run eagerly: take the write lock up front
                # and wait for it rather than failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------
# Cache and Celery: REDIS_URL, else local memory and eager tasks
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The cache degrades instead of failing: a Redis error is a miss, and for
    # CACHE_BREAKER_SECONDS after one the cache is not asked at all (marketplace/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "marketplace.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hc3d",
            "OPTIONS": {
                "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.3),
                "socket_timeout": env_float("REDIS_SOCKET_TIMEOUT", 0.5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# With no broker the embedded default runs every task inline, in the caller's process
# (the in-memory transport is named only so Celery never goes looking for an AMQP host).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged after it ran, so a worker killed mid-task hands it to another;
# tasks are written to be safe to run twice (STYLE.md §10).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing a task from a web request never blocks it for long: short socket timeouts
# and one quick retry. A publish that still fails is logged by its caller; what it was
# for is found again by a periodic sweep (e.g. RECEIVED webhook events are requeued).
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 1.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 1.0),
    "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 1.0),
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
# Periodic jobs live in one place: config/celery.py (`setup_periodic_tasks`).

# ------------------------------------------------------------------------------
# Storage: S3-compatible buckets when S3_PRIVATE_BUCKET is set, else local folders
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Digital files that buyers pay for: never under MEDIA_ROOT, never at a public URL.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))

# Download links (presigned on S3, signed locally) stop working after this many seconds.
DOWNLOAD_LINK_SECONDS = env_int("DOWNLOAD_LINK_SECONDS", 300)
S3_PRIVATE_BUCKET = env_str("S3_PRIVATE_BUCKET")
S3_PUBLIC_BUCKET = env_str("S3_PUBLIC_BUCKET")
USE_S3 = bool(S3_PRIVATE_BUCKET)
_static_storage = {
    # Hashed names for far-future caching once collected; plain files while developing.
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
if USE_S3:
    from botocore.config import Config as BotoConfig

    _s3_common = {
        "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
        "region_name": env_str("S3_REGION", "us-east-1"),
        "access_key": env_str("S3_ACCESS_KEY_ID") or None,
        "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": env_str("S3_ADDRESSING_STYLE", "path"),
        # botocore's defaults are 60 s each with retries: a hung object store would hold
        # a web worker for minutes. Uploads and presigning stay well inside these.
        "client_config": BotoConfig(
            connect_timeout=env_float("S3_CONNECT_TIMEOUT", 2.0),
            read_timeout=env_float("S3_READ_TIMEOUT", 10.0),
            retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": env_str("S3_ADDRESSING_STYLE", "path")},
        ),
    }
    STORAGES = {
        # Public: product images, avatars. Objects are public-read, URLs unsigned.
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **_s3_common,
                "bucket_name": S3_PUBLIC_BUCKET or S3_PRIVATE_BUCKET,
                "default_acl": "public-read",
                "querystring_auth": False,
                "custom_domain": env_str("S3_PUBLIC_DOMAIN") or None,
            },
        },
        # Private: digital files. Objects are private; every URL is presigned and short-lived.
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **_s3_common,
                "bucket_name": S3_PRIVATE_BUCKET,
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": DOWNLOAD_LINK_SECONDS,
            },
        },
        "staticfiles": _static_storage,
    }
else:
    STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
        },
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # base_url None: a private file has no URL; downloads/ streams it after checks.
            "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
        },
        "staticfiles": _static_storage,
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 2 * 1024 * 1024)
PRODUCT_IMAGE_MAX_BYTES = env_int("PRODUCT_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
DIGITAL_FILE_MAX_BYTES = env_int("DIGITAL_FILE_MAX_BYTES", 250 * 1024 * 1024)
# ZIP/3MF safety limits (catalog/validation.py): members, total unpacked size, and the
# compression ratio above which a member is treated as a zip bomb.
ARCHIVE_MAX_MEMBERS = env_int("ARCHIVE_MAX_MEMBERS", 500)
ARCHIVE_MAX_UNCOMPRESSED_BYTES = env_int("ARCHIVE_MAX_UNCOMPRESSED_BYTES", 1024**3)
ARCHIVE_MAX_RATIO = env_int("ARCHIVE_MAX_RATIO", 200)
# The public 3D preview is a degraded copy: at most this many triangles, snapped to a grid.
MESH_PREVIEW_MAX_TRIANGLES = env_int("MESH_PREVIEW_MAX_TRIANGLES", 60_000)
MESH_PREVIEW_GRID_STEPS = env_int("MESH_PREVIEW_GRID_STEPS", 256)
# ...and keeps at most one triangle in this many, so even a small model's preview is
# open everywhere, not a printable copy (docs/DECISIONS.md).
MESH_PREVIEW_MIN_STRIDE = env_int("MESH_PREVIEW_MIN_STRIDE", 2)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
# A picture attached to a buyer–seller message: checked like listing images, re-encoded
# as WebP at most this many pixels on its long side, kept in the private storage.
MESSAGE_IMAGE_MAX_BYTES = env_int("MESSAGE_IMAGE_MAX_BYTES", 8 * 1024 * 1024)
MESSAGE_IMAGE_MAX_SIDE = env_int("MESSAGE_IMAGE_MAX_SIDE", 1600)

# ------------------------------------------------------------------------------
# Email: SMTP when EMAIL_HOST is set, else the console plus files in var/outbox
# ------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "marketplace.mail.OutboxEmailBackend")
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "outbox")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Home Craft 3D <hello@homecraft3d.local>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# ------------------------------------------------------------------------------
# Accounts: custom user, django-allauth with mandatory email verification
# https://docs.allauth.org/en/latest/account/configuration.html
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "catalog:home"
ACCOUNT_ADAPTER = "marketplace.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Confirming takes a POST from the confirmation page: link scanners in mail clients
# must not confirm an address by fetching it.
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Home Craft 3D] "
ACCOUNT_PREVENT_ENUMERATION = True
# The signup form adds the required "I accept the Terms and Privacy Policy" box.
ACCOUNT_FORMS = {"signup": "marketplace.forms_account.SignupForm"}
# A data export's download link works this long (accounts.export); the file is kept a week.
DATA_EXPORT_LINK_SECONDS = env_int("DATA_EXPORT_LINK_SECONDS", 24 * 3600)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Messages live in the session, so the site sets no "messages" cookie (the Privacy
# Policy lists every cookie: marketplace.legal.COOKIES).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# allauth's own limits (backed by the cache; the reasons for each number are in
# docs/SECURITY.md). Its client IP comes from marketplace.http.client_ip, through the
# adapter, so TRUSTED_PROXY_COUNT below applies to these too.
# https://docs.allauth.org/en/latest/account/rate_limits.html
ACCOUNT_RATE_LIMITS = {
    "login": env_str("ACCOUNT_RATE_LOGIN", "30/m/ip"),
    "login_failed": env_str("ACCOUNT_RATE_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": env_str("ACCOUNT_RATE_SIGNUP", "5/m/ip,30/h/ip"),
    "reset_password": env_str("ACCOUNT_RATE_RESET_PASSWORD", "5/m/ip,3/h/key"),
    "reset_password_from_key": env_str("ACCOUNT_RATE_RESET_FROM_KEY", "20/m/ip"),
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}

# ------------------------------------------------------------------------------
# Security. With DEBUG off these are production values: `check --deploy` is clean.
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = False
if not DEBUG:
    # TLS ends at the load balancer, which sets X-Forwarded-Proto (docs/OPERATIONS.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    # /healthz is polled by the load balancer over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content-Security-Policy (django-csp 4): scripts and styles from our own origin only, no
# inline script or style="" anywhere; the one inline script (the product page's import
# map) carries the request's nonce. JSON-LD is data, never executed.
# https://django-csp.readthedocs.io/en/latest/configuration.html
# Where public media is served from when it is not this origin (S3 or a CDN): images
# and the 3D previews the viewer fetches.
CSP_MEDIA_ORIGINS = env_list("CSP_MEDIA_ORIGINS") + [
    origin
    for origin in (
        f"https://{env_str('S3_PUBLIC_DOMAIN')}" if env_str("S3_PUBLIC_DOMAIN") else "",
        env_str("S3_ENDPOINT_URL"),
    )
    if origin
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "connect-src": [SELF, *CSP_MEDIA_ORIGINS],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # Checkout and Connect onboarding post here, then redirect to Stripe's pages.
        "form-action": [SELF, "https://checkout.stripe.com", "https://connect.stripe.com"],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page uses (marketplace.security.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
# Links in emails (allauth's confirmation and reset links): https once requests are
# redirected to HTTPS; http while debugging or on a plain-HTTP local run (scripts/run.sh).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SECURE_SSL_REDIRECT else "http"

# ------------------------------------------------------------------------------
# Rate limits (django-ratelimit) for our own endpoints
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
# ------------------------------------------------------------------------------
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "marketplace.views.ratelimited"
# Every limiter reads the client IP one way (key="ip" included).
RATELIMIT_IP_META_KEY = "marketplace.http.client_ip"
# A cache outage lets requests through rather than locking everyone out; the admin
# login alone fails closed (docs/SECURITY.md, "Fails open or closed").
RATELIMIT_FAIL_OPEN = True
# Client IPs (marketplace.http.client_ip): behind this many proxies that each append the
# address they saw to X-Forwarded-For, the client is that many entries from the right.
# 0 (no proxy): REMOTE_ADDR. The documented deployment has one load balancer: set 1.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
# How long the cache is skipped after a Redis error (marketplace/cache.py).
CACHE_BREAKER_SECONDS = env_int("CACHE_BREAKER_SECONDS", 30)
# Admin login, failed attempts only: per username tried and per client IP.
ADMIN_LOGIN_RATE = env_str("ADMIN_LOGIN_RATE", "5/15m")
ADMIN_LOGIN_RATE_IP = env_str("ADMIN_LOGIN_RATE_IP", "20/h")
# Cart: adds per person (user, else IP) and per IP.
CART_ADD_RATE = env_str("CART_ADD_RATE", "30/m")
CART_ADD_RATE_IP = env_str("CART_ADD_RATE_IP", "60/m")
# Checkout starts (each reserves stock): per person and per IP; and a cap on the open
# unpaid checkouts of one user, browser session or IP (payments.checkout).
CHECKOUT_RATE = env_str("CHECKOUT_RATE", "10/h")
CHECKOUT_RATE_IP = env_str("CHECKOUT_RATE_IP", "20/h")
CHECKOUT_OPEN_MAX = env_int("CHECKOUT_OPEN_MAX", 3)
# How long an unpaid checkout holds its stock (Stripe's minimum session life is 30 min).
CHECKOUT_SESSION_MINUTES = env_int("CHECKOUT_SESSION_MINUTES", 30)
# Reviews (create/edit/delete/reply), favorites and wishlist toggles, per person and IP.
REVIEW_RATE = env_str("REVIEW_RATE", "10/h")
REVIEW_RATE_IP = env_str("REVIEW_RATE_IP", "30/h")
FAVORITE_RATE = env_str("FAVORITE_RATE", "60/m")
FAVORITE_RATE_IP = env_str("FAVORITE_RATE_IP", "120/m")
# Search suggestions (GET, typed-ahead): per person and IP.
AUTOCOMPLETE_RATE = env_str("AUTOCOMPLETE_RATE", "120/m")
AUTOCOMPLETE_RATE_IP = env_str("AUTOCOMPLETE_RATE_IP", "300/m")
# Download endpoints (paid and free): per signed-in user or guest session, and per IP.
DOWNLOAD_RATE = env_str("DOWNLOAD_RATE", "30/m")
DOWNLOAD_RATE_IP = env_str("DOWNLOAD_RATE_IP", "120/m")
# Refund requests (POST) per signed-in user or guest session, and per IP.
REFUND_REQUEST_RATE = env_str("REFUND_REQUEST_RATE", "10/h")
REFUND_REQUEST_RATE_IP = env_str("REFUND_REQUEST_RATE_IP", "30/h")
# Product questions, answers and buyer–seller messages: per signed-in user (or guest
# session, for messages) and per IP. Past a limit the poster gets a 429 page that says
# how long to wait.
RATELIMIT_QUESTION = env_str("RATELIMIT_QUESTION", "10/h")
RATELIMIT_ANSWER = env_str("RATELIMIT_ANSWER", "30/h")
RATELIMIT_MESSAGE = env_str("RATELIMIT_MESSAGE", "30/h")
RATELIMIT_POST_IP = env_str("RATELIMIT_POST_IP", "100/h")
# Reports to the moderators, per reporter and per address.
REPORT_RATE = env_str("REPORT_RATE", "10/h")
REPORT_RATE_IP = env_str("REPORT_RATE_IP", "30/h")
# Intellectual-property notices (the public form, POST) per IP.
IP_NOTICE_RATE = env_str("IP_NOTICE_RATE", "10/h")

# ------------------------------------------------------------------------------
# Stripe: real keys switch the gateway from the local payment simulator to Stripe
# ------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
# The simulator signs its events with this secret too, so a fixed default is fine locally.
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_local_simulator")
STRIPE_CONNECT_WEBHOOK_SECRET = env_str(
    "STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_local_simulator_connect"
)
# Rotation: previous endpoint secrets (comma-separated) still accepted, tried after the
# current one, until removed (docs/OPERATIONS.md, Rotating secrets).
STRIPE_WEBHOOK_SECRET_FALLBACKS = env_list("STRIPE_WEBHOOK_SECRET_FALLBACKS")
STRIPE_CONNECT_WEBHOOK_SECRET_FALLBACKS = env_list("STRIPE_CONNECT_WEBHOOK_SECRET_FALLBACKS")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# Prefix of every idempotency key sent to Stripe; blank: this database's own random
# SiteConfig.installation_id, so installations sharing a Stripe account never collide.
STRIPE_IDEMPOTENCY_PREFIX = env_str("STRIPE_IDEMPOTENCY_PREFIX")
PAYMENT_SIMULATOR = not STRIPE_SECRET_KEY

# ------------------------------------------------------------------------------
# Internationalisation
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "usd"
# How long after payment the "review your purchase" email goes out.
REVIEW_REQUEST_DELAY_SECONDS = env_int("REVIEW_REQUEST_DELAY_SECONDS", 7 * 24 * 3600)

# ------------------------------------------------------------------------------
# Logging: every line carries rid, user id and path (marketplace/observability.py)
# ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "marketplace.observability.RequestContextFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s rid=%(rid)s user=%(user_id)s "
            "path=%(path)s %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
        # Inline tasks log every run at INFO; noise in the embedded default's terminal.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else LOG_LEVEL},
    },
}

# ------------------------------------------------------------------------------
# Sentry: only when SENTRY_DSN is set
# ------------------------------------------------------------------------------
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
    )

# ------------------------------------------------------------------------------
# Webhook intake, the full stack and its drills (issue 18; docs/RELIABILITY.md)
# ------------------------------------------------------------------------------
# Intake stores each event and publishes its task once, without waiting on a broker that
# is down; this sweep queues whatever was stored but not queued (payments.tasks).
STRIPE_EVENT_REQUEUE_EVERY_SECONDS = env_int("STRIPE_EVENT_REQUEUE_EVERY_SECONDS", 60)
STRIPE_EVENT_REQUEUE_AFTER_SECONDS = env_int("STRIPE_EVENT_REQUEUE_AFTER_SECONDS", 120)
# How long Redis keeps a task a killed worker had taken before another worker gets it
# (acks_late). Drills shorten it; a task must never run longer than this.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
# The load benchmarks' floor page (/bench/floor/, marketplace/bench.py): never in production.
BENCH_FLOOR_PAGE = env_bool("BENCH_FLOOR_PAGE", default=False)
