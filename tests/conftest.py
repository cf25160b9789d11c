"""Shared fixtures. Tests run against the same settings module as the app; what tests
need different (plain HTTP, files in a temporary folder, tasks inline) is set here."""

import socket

import boto3
import pytest
from django.core.cache import cache
from django.test import override_settings
from moto.server import ThreadedMotoServer

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):
    # Hashing at production strength only slows the suite; strength is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No collectstatic in tests: serve and name static files as they are.
    media = tmp_path_factory.mktemp("media")
    private = tmp_path_factory.mktemp("private")
    storages = dict(settings.STORAGES)
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    if not settings.USE_S3:
        storages["default"] = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media, "base_url": settings.MEDIA_URL},
        }
        storages["private"] = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": private, "base_url": None},
        }
        settings.MEDIA_ROOT = media
        settings.PRIVATE_MEDIA_ROOT = private
    settings.STORAGES = storages
    # Nothing a test writes lands in var/, which a running `scripts/run.sh` server uses
    # (its database is var/db.sqlite3; the test database is in memory or test_…).
    settings.EMAIL_FILE_PATH = tmp_path_factory.mktemp("outbox")


@pytest.fixture(autouse=True, scope="session")
def _plain_http():
    # The test client and the live server speak plain HTTP on localhost. Session-wide
    # and first: SecurityMiddleware reads these once, when the live server starts.
    with override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    ):
        yield


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    # Tests run tasks inline even when REDIS_URL gives Celery a broker: the task code
    # is what is under test, not the worker. /healthz tests probe the broker itself.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _staff_have_mfa(request):
    """Staff pages need two-factor on (marketplace.access.staff_mfa_missing). Every staff
    user a test saves gets an authenticator app (`tests.factories.STAFF_TOTP_SECRET`), so
    staff tests read as before; `@pytest.mark.staff_without_mfa` tests the rule itself."""
    if request.node.get_closest_marker("staff_without_mfa"):
        yield
        return
    from django.db.models.signals import post_save

    from marketplace.models import User
    from tests.factories import activate_totp

    def _activate(sender, instance, **kwargs):
        if instance.is_staff and instance.pk:
            activate_totp(instance)

    post_save.connect(_activate, sender=User, dispatch_uid="tests-staff-mfa")
    yield
    post_save.disconnect(sender=User, dispatch_uid="tests-staff-mfa")


@pytest.fixture(autouse=True)
def _clear_cache():
    # The cache (Redis in CI) outlives each test's rolled-back transaction.
    cache.clear()
    yield
    cache.clear()


# ------------------------------------------------------------------------------
# S3: django-storages against moto's S3 server on loopback (the production path).
# ------------------------------------------------------------------------------
ACCESS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="hc3d-private")
    client.create_bucket(Bucket="hc3d-public")
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3_storages(settings, s3_endpoint):
    endpoint, client = s3_endpoint
    common = {
        **ACCESS,
        "endpoint_url": endpoint,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }
    storages = dict(settings.STORAGES)
    storages["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **common,
            "bucket_name": "hc3d-public",
            "default_acl": "public-read",
            "querystring_auth": False,
        },
    }
    storages["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **common,
            "bucket_name": "hc3d-private",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }
    settings.STORAGES = storages
    return endpoint, client
