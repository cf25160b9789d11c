"""The project's urls plus payments' (until config/urls.py includes them itself)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = list(project_urlpatterns)
if not any(getattr(p, "namespace", None) == "payments" for p in urlpatterns):
    urlpatterns.append(path("", include("payments.urls")))
