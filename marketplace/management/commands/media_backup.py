from pathlib import Path

from django.core.management.base import BaseCommand

from marketplace.backups import media_backup


class Command(BaseCommand):
    help = (
        "Copy the public and private file stores (local folders or S3 buckets) into "
        "DEST/public.tar.gz and DEST/private.tar.gz. Used by scripts/backup.sh."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dest", required=True, help="Folder of this backup.")

    def handle(self, *args, dest, **options):
        for c in media_backup(dest=Path(dest)):
            self.stdout.write(
                f"{c.label}: {c.files} file(s), {c.bytes} bytes from {c.kind} {c.where}"
            )
