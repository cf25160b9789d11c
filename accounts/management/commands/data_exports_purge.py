from django.core.management.base import BaseCommand

from accounts.export import data_export_purge_expired


class Command(BaseCommand):
    help = "Delete the files of data exports past their expiry (also on Celery beat, hourly)."

    def handle(self, *args, **options) -> None:
        count = data_export_purge_expired()
        self.stdout.write(f"{count} expired export(s) removed.")
