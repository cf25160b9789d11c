from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    """Entitlement, signed download links, counters, upload validation of digital files."""

    name = "downloads"
    verbose_name = "Downloads"
