"""Request ids and log context.

`RequestIDMiddleware` honours a well-formed incoming `X-Request-ID` (from the load
balancer) or makes one, returns it on the response, and binds it, with the user id and
path, to a context variable that `RequestContextFilter` adds to every log record.
Context variables (not thread locals) keep this right under threads and async alike.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished

REQUEST_ID_HEADER = "X-Request-ID"
# Accept ids a proxy would plausibly send; anything else could be log injection.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_log_context: ContextVar[dict | None] = ContextVar("log_context", default=None)


def bind_log_context(**values) -> None:
    current = dict(_log_context.get() or {})
    current.update({k: v for k, v in values.items() if v is not None})
    _log_context.set(current)


def clear_log_context() -> None:
    _log_context.set(None)


def _clear_on_finish(**kwargs) -> None:
    clear_log_context()


request_finished.connect(_clear_on_finish, dispatch_uid="observability-clear-log-context")


def current_request_id() -> str | None:
    return (_log_context.get() or {}).get("rid")


def request_id_from_header(value: str | None) -> str:
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = rid
        clear_log_context()
        bind_log_context(rid=rid, path=request.path)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        # The context stays bound until the response is closed (request_finished), so
        # Django's own "Not Found"/"Internal Server Error" lines, logged after the
        # middleware chain returns, still carry it.
        if not getattr(request, "_reads_no_session", False):
            self._bind_user(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs after AuthenticationMiddleware, so the user is known from here on. A view
        # marked `reads_no_session` (/healthz) is not made to load the session for a log
        # line: a health check with a cookie must cost no query.
        if getattr(view_func, "reads_no_session", False):
            request._reads_no_session = True
            return None
        self._bind_user(request)
        return None

    @staticmethod
    def _bind_user(request) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind_log_context(user_id=user.pk)


class RequestContextFilter(logging.Filter):
    """Adds `rid`, `user_id` and `path` to every record ('-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _log_context.get() or {}
        record.rid = context.get("rid", "-")
        record.user_id = context.get("user_id", "-")
        record.path = context.get("path", "-")
        return True
