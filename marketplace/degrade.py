"""What a page answers when the database is unreachable: a clean 503, never a 500.

Every write is one transaction per service call, so a request cut off by the database
leaves nothing half-written (the transaction never commits); what the visitor sees is
templates/503.html, rendered without a request or context processors, so rendering it
needs neither the database nor the session.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def database_unavailable_response() -> HttpResponse:
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view (or its template) that fails on a database connection error answers the
    503 page. Errors raised by other middleware reach `server_error` below instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("database unavailable: %s", exception)
            return database_unavailable_response()
        return None


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: the 503 page when the uncaught error was the database going away
    (e.g. in the session or auth middleware), else the ordinary 500 page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable_response()
    return HttpResponseServerError(loader.get_template(template_name).render())
