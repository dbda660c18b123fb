from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from orders.demo import DEMO_PASSWORD, DEMO_USERS, demo_users_load


class Command(BaseCommand):
    help = "Load the demo users and the demo shop. Safe to run twice; refused in production."

    def handle(self, *args: object, **options: object) -> None:
        try:
            demo_users_load()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        names = ", ".join(user.username for user in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(f"Demo users ready: {names} (password {DEMO_PASSWORD!r})")
        )
