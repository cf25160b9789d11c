"""A Redis cache that degrades instead of failing (docs/SECURITY.md, "Fails open/closed").

The cache is an optimisation: page counts, trending ids, the site config, search
vocabularies and rate-limit counters can all be recomputed or skipped. So when Redis
refuses, times out or hangs, every operation answers as a cache *miss* instead of
raising, and a small circuit breaker stops asking Redis at all for
`CACHE_BREAKER_SECONDS` (default 30 s) after an error, so a dead Redis costs one
socket timeout per process per period, not one per request. The outage is logged once
when it starts and once when Redis answers again, never per request.

While the breaker is open:

* `get`/`get_many`/`has_key` answer "not there" (callers compute from the database);
* `set`/`set_many`/`delete`/`touch`/`clear` do nothing;
* `add` answers True, as if this caller were the first: locks are granted (allauth's
  rate-limit lock), first-use counters start at their initial value, so every
  cache-backed rate limit **fails open** (`RATELIMIT_FAIL_OPEN` covers the one call,
  `incr`, that can still fail). Limiters that must fail closed ask `cache_available()`
  first (the admin login does);
* `incr` raises ValueError, Django's "no such key" contract.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)


class _Breaker:
    """Per-process state of one Redis location, shared by every thread's cache object
    (Django builds one cache instance per thread)."""

    def __init__(self) -> None:
        self.open_until = 0.0
        self.down = False
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self, location: str, exc: BaseException) -> None:
        seconds = getattr(settings, "CACHE_BREAKER_SECONDS", 30)
        with self.lock:
            self.open_until = time.monotonic() + seconds
            first = not self.down
            self.down = True
        if first:
            logger.warning(
                "cache unavailable (%s: %s); serving without it, next try in %ss",
                type(exc).__name__,
                exc,
                seconds,
            )

    def ok(self) -> None:
        if self.down:
            with self.lock:
                was_down, self.down = self.down, False
            if was_down:
                logger.warning("cache available again")


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


def _errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.RedisError, OSError)


class ResilientRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that never raises a connection error."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self.breaker = _breaker_for(self._location)

    def is_available(self) -> bool:
        return not self.breaker.is_open()

    def _guard(self, fallback, operation, *args, **kwargs):
        if self.breaker.is_open():
            return fallback()
        try:
            result = operation(*args, **kwargs)
        except _errors() as exc:
            self.breaker.trip(self._location, exc)
            return fallback()
        self.breaker.ok()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(lambda: True, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guard(lambda: default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(lambda: None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(lambda: False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard(lambda: False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._guard(dict, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guard(lambda: False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unavailable).")

        return self._guard(missing, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(lambda: list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._guard(lambda: None, super().delete_many, keys, version)

    def clear(self):
        return self._guard(lambda: False, super().clear)


def cache_available(alias: str = "default") -> bool:
    """False while the cache's circuit breaker is open (a recent connection error).
    Local-memory caches are always available. For limiters that must fail closed."""
    backend = caches[alias]
    check = getattr(backend, "is_available", None)
    return True if check is None else bool(check())


def cache_breaker_reset(alias: str = "default") -> None:
    """Close the breaker (tests, and ops after fixing Redis)."""
    breaker = getattr(caches[alias], "breaker", None)
    if breaker is not None:
        breaker.open_until = 0.0
        breaker.down = False
