"""Response headers Django's SecurityMiddleware does not set."""

from django.conf import settings
from django.http import HttpResponseBadRequest


class PermissionsPolicyMiddleware:
    """`Permissions-Policy: settings.PERMISSIONS_POLICY` on every response: the browser
    features (camera, microphone, geolocation, payment…) no page of ours uses are off,
    so injected or third-party script cannot ask for them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


class RejectNulMiddleware:
    """A NUL (or other C0 control) character in the URL path, or NUL in the query
    string, is a 400 before any view runs. PostgreSQL refuses NUL in text, so such a
    value reaching a lookup (a simulator session id, a slug, a filter) would be a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (
            any(ord(ch) < 32 for ch in path)
            or "\x00" in request.META.get("QUERY_STRING", "")
            or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()
            )
        ):
            return HttpResponseBadRequest(
                "This address contains characters that are not allowed.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
