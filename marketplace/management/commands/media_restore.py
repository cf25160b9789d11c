from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.backups import media_restore


class Command(BaseCommand):
    help = (
        "Put SRC/public.tar.gz and SRC/private.tar.gz back into the file stores the "
        "settings name (a fresh folder or bucket). Used by scripts/restore.sh."
    )

    def add_arguments(self, parser):
        parser.add_argument("--src", required=True, help="Folder of the backup to restore.")
        parser.add_argument(
            "--force", action="store_true", help="Restore into a local folder holding files."
        )

    def handle(self, *args, src, force=False, **options):
        try:
            copies = media_restore(src=Path(src), force=force)
        except (FileNotFoundError, FileExistsError) as exc:
            raise CommandError(str(exc)) from exc
        for c in copies:
            self.stdout.write(
                f"{c.label}: {c.files} file(s), {c.bytes} bytes into {c.kind} {c.where}"
            )
