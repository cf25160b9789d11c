"""Helpers for tests that run the real processes (tests/stack, tests/drills): a `Stack`
(config/stackrun.py) pointed at the test database and the test Redis, so the gunicorn
and Celery processes see the rows a transactional test commits."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from config.stackrun import Stack

needs_pg_and_redis = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="runs gunicorn and Celery workers against PostgreSQL and Redis",
    ),
]


def database_url_for_tests() -> str:
    """postgres:// URL of the database this test session uses (test_…)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def stack_for_tests(
    tmp_path, *, redis_url: str | None = None, database_url: str | None = None, **env
) -> Stack:
    """A Stack on the test database and Redis (not started). `env` adds variables."""
    # Emails, media and the beat schedule stay in the test's folder, not in var/.
    env = {"VAR_DIR": tmp_path / "var", "EMAIL_FILE_PATH": tmp_path / "outbox", **env}
    stack = Stack(
        database_url=database_url or database_url_for_tests(),
        redis_url=redis_url or settings.REDIS_URL,
        log_dir=tmp_path / "stack",
        env={k: str(v) for k, v in env.items()},
    )
    # The stack serves with DEBUG off (hashed static names): on a fresh clone nothing has
    # been collected yet, and every page with a {% static %} would be a 500.
    stack.manage("collectstatic", "--noinput")
    return stack


def wait_for(predicate, *, timeout: float, interval: float = 0.25, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
