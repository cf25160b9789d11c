"""Settings switch on environment variables and fall back to the embedded default.

Each case imports config.settings in a fresh interpreter with exactly the variables
given, as a deployment would."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
_OURS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "S3_PRIVATE_BUCKET",
    "S3_PUBLIC_BUCKET",
    "S3_ENDPOINT_URL",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "SENTRY_DSN",
    "STRIPE_SECRET_KEY",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

PROBE = """
import json
from django.conf import settings
import django
django.setup()
import sentry_sdk
print(json.dumps({
    "db_engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_host": settings.DATABASES["default"].get("HOST", ""),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION", ""),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "default_storage": settings.STORAGES["default"]["BACKEND"],
    "private_storage": settings.STORAGES["private"]["BACKEND"],
    "private_options": {k: str(v) for k, v in settings.STORAGES["private"]["OPTIONS"].items()},
    "public_options": {k: str(v) for k, v in settings.STORAGES["default"]["OPTIONS"].items()},
    "email": settings.EMAIL_BACKEND,
    "sentry": sentry_sdk.get_client().is_active(),
    "simulator": settings.PAYMENT_SIMULATOR,
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "csrf_origins": settings.CSRF_TRUSTED_ORIGINS,
}))
"""


def _clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=overrides.pop("VAR_DIR", ""))
    env.update(overrides)
    return env


def _settings_with(tmp_path, **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_variables_gives_the_embedded_default(tmp_path):
    # given no environment at all
    # when settings load
    s = _settings_with(tmp_path)
    # then everything runs in-process on this machine
    assert s["db_engine"] == "django.db.backends.sqlite3"
    assert s["db_name"] == str(tmp_path / "db.sqlite3")
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["eager"] is True
    assert s["broker"] == "memory://localhost/"
    assert s["default_storage"] == "django.core.files.storage.FileSystemStorage"
    assert s["private_storage"] == "django.core.files.storage.FileSystemStorage"
    assert s["private_options"]["base_url"] == "None"  # private files have no URL
    assert s["private_options"]["location"] != s["public_options"]["location"]
    assert s["email"] == "marketplace.mail.OutboxEmailBackend"
    assert s["sentry"] is False
    assert s["simulator"] is True
    assert s["debug"] is False


def test_service_variables_switch_to_the_production_shape(tmp_path):
    # given every integration's variable
    s = _settings_with(
        tmp_path,
        DATABASE_URL="postgres://shop:pw@db.internal:5432/homecraft",
        REDIS_URL="redis://cache.internal:6379/0",
        S3_PRIVATE_BUCKET="hc3d-private",
        S3_PUBLIC_BUCKET="hc3d-public",
        S3_ENDPOINT_URL="http://minio.internal:9000",
        EMAIL_HOST="smtp.internal",
        SENTRY_DSN="https://key@sentry.invalid/1",
        STRIPE_SECRET_KEY="sk_test_123",
        ALLOWED_HOSTS="shop.example.com,www.shop.example.com",
        CSRF_TRUSTED_ORIGINS="https://shop.example.com",
    )
    # then each one is used
    assert s["db_engine"] == "django.db.backends.postgresql"
    assert s["db_host"] == "db.internal"
    assert s["cache"] == "marketplace.cache.ResilientRedisCache"
    assert s["cache_location"] == "redis://cache.internal:6379/0"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache.internal:6379/0"
    assert s["default_storage"] == "storages.backends.s3.S3Storage"
    assert s["private_storage"] == "storages.backends.s3.S3Storage"
    assert s["private_options"]["bucket_name"] == "hc3d-private"
    assert s["private_options"]["default_acl"] == "private"
    assert s["private_options"]["querystring_auth"] == "True"
    assert s["public_options"]["bucket_name"] == "hc3d-public"
    assert s["public_options"]["default_acl"] == "public-read"
    assert s["public_options"]["querystring_auth"] == "False"
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["sentry"] is True
    assert s["simulator"] is False
    assert s["allowed_hosts"] == ["shop.example.com", "www.shop.example.com"]
    assert s["csrf_origins"] == ["https://shop.example.com"]


def test_a_malformed_boolean_is_refused_with_its_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path), DEBUG="maybe"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values(tmp_path):
    # given what a production deployment sets
    env = _clean_env(
        VAR_DIR=str(tmp_path),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shop.example.com",
        CSRF_TRUSTED_ORIGINS="https://shop.example.com",
    )
    # when Django's deployment checklist runs, failing on any warning
    result = _check_deploy(env)
    # then it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_the_embedded_secret_key(tmp_path):
    env = _clean_env(VAR_DIR=str(tmp_path), DEBUG="false", ALLOWED_HOSTS="shop.example.com")
    result = _check_deploy(env)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # makemigrations --check exits non-zero when a model change has no migration
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
