import pytest
from django.test import override_settings

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: a dependency that is configured but stopped.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_user(
        email="ops@example.com", password="pw-123456789", is_staff=True
    )
    client.force_login(staff)
    return client


DETAIL = "/healthz?detail=1"


def test_healthz_is_up_when_every_dependency_answers(staff_client, settings):
    client = staff_client
    # when
    response = client.get(DETAIL)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "up"
    assert {"database", "cache", "storage"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    # the broker is probed only when tasks go through one (REDIS_URL set)
    assert ("broker" in body["checks"]) is (not settings.CELERY_TASK_ALWAYS_EAGER)
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_down_when_the_cache_is_stopped(staff_client):
    client = staff_client
    # given a cache server that does not answer
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=dead_cache):
        response = client.get(DETAIL)
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_down_when_the_broker_is_stopped(staff_client, settings):
    client = staff_client
    # given tasks that go through a broker that does not answer
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = DEAD_REDIS
    try:
        response = client.get(DETAIL)
    finally:
        celery_app.conf.broker_url = previous
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_down_when_the_private_storage_cannot_be_written(
    staff_client, settings, tmp_path
):
    client = staff_client
    # given a private storage "folder" that is really a file
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    storages = dict(settings.STORAGES)
    storages["private"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": blocker / "private", "base_url": None},
    }
    settings.STORAGES = storages
    # when
    response = client.get(DETAIL)
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False


def test_healthz_answers_only_get(client):
    assert client.post("/healthz").status_code == 405
