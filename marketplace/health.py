"""Liveness of what the web process depends on, for GET /healthz.

Each probe is bounded (short socket timeouts) so a dead dependency answers "down"
quickly instead of hanging the load balancer's health check.
"""

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection

# The whole report answers within this many seconds; a probe still running then is
# "down" (its own socket timeouts end it later, in its thread).
HEALTH_DEADLINE_SECONDS = 1.5


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this probe's thread owns the connection; never leak it


def _check_cache() -> None:
    # Straight to Redis, past the resilient wrapper: its misses would read as "up".
    from django.core.cache.backends.redis import RedisCache

    key = f"healthz:{uuid.uuid4().hex}"
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(key, write=True)
        client.set(key, b"1", ex=10)
        if client.get(key) != b"1":
            raise RuntimeError("cache did not return what was written")
        client.delete(key)
        return
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


def _check_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


def _check_storage() -> None:
    for alias in ("default", "private"):
        storage = storages[alias]
        location = getattr(storage, "location", None)
        if isinstance(storage, FileSystemStorage):
            # Local folders: they must exist (made on first use) and take writes.
            folder = Path(location)
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK):
                raise RuntimeError(f"{alias} storage folder is not writable")
        else:
            # Object stores: exists() on a name never written is a HEAD request that
            # proves the bucket answers to our credentials, without writing anything.
            storage.exists("healthz-probe")


def health_report() -> tuple[bool, dict]:
    """Run every probe; returns (all_up, {"name": {"ok": bool, "ms": int, "error"?: str}})."""
    probes: dict[str, Callable[[], None]] = {
        "database": _check_database,
        "cache": _check_cache,
        "storage": _check_storage,
    }
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        probes["broker"] = _check_broker
    checks: dict[str, dict] = {}
    started = time.monotonic()
    deadline = started + HEALTH_DEADLINE_SECONDS
    # Probes run side by side, so one hung dependency cannot make the others late.
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="healthz")
    futures = {name: pool.submit(_timed, probe) for name, probe in probes.items()}
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            checks[name] = {
                "ok": False,
                "error": f"no answer within {HEALTH_DEADLINE_SECONDS}s",
                "ms": round((time.monotonic() - started) * 1000),
            }
    pool.shutdown(wait=False, cancel_futures=True)
    return all(c["ok"] for c in checks.values()), checks


def _timed(probe: Callable[[], None]) -> dict:
    started = time.monotonic()
    try:
        probe()
    except Exception as exc:  # any failure of a dependency is "down", never a 500
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        result = {"ok": True}
    result["ms"] = round((time.monotonic() - started) * 1000)
    return result
