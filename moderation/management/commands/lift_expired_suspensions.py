from django.core.management.base import BaseCommand

from moderation.suspensions import suspensions_lift_expired


class Command(BaseCommand):
    help = "Lift the suspensions whose end date has passed and tell their users (also a beat job)."

    def handle(self, *args, **options) -> None:
        count = suspensions_lift_expired()
        self.stdout.write(f"{count} suspension{'s' if count != 1 else ''} lifted.")
