from argparse import ArgumentParser

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from api.keys import demo_api_key_make
from notifications.demo import demo_shop_load
from orders.fixtures.demo_users import DEMO_PASSWORD, DEMO_USERS, demo_users_load


class Command(BaseCommand):
    """In `api`, the top layer, because it makes an API key as well as the shop."""

    help = (
        "Load the demo users and the demo shop (products, customers, six weeks of orders, "
        "purchase orders and backorders, with the emails customers were sent), and print a "
        "demo API key with every scope. Safe to run twice; refused in production."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--users-only",
            action="store_true",
            help="Create or reset the demo users only; do not load the shop.",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            users = demo_users_load()
            summary = None if options["users_only"] else demo_shop_load(users=users)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        names = ", ".join(user.username for user in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(f"Demo users ready: {names} (password {DEMO_PASSWORD!r})")
        )
        if summary is None:
            return
        demo_key = demo_api_key_make()
        if not summary.created:
            self.stdout.write(
                f"The demo shop is already loaded ({summary.products} products); skipped it."
            )
        else:
            self.stdout.write(self.style.SUCCESS("Demo shop loaded:"))
        self.stdout.write(
            f"  {summary.products} products, {summary.customers} customers, "
            f"{summary.orders} orders\n"
            f"  {summary.backordered_lines} backordered lines, "
            f"{summary.ready_to_ship_lines} lines ready to ship, {summary.shipments} shipments\n"
            f"  {summary.open_purchase_orders} open purchase orders "
            f"({summary.overdue_purchase_orders} overdue), "
            f"{summary.date_revisions} expected-date revisions\n"
            f"  {summary.refunds_owed} refunds owed (/refunds/)"
        )
        self.stdout.write(
            "Demo storefront API key (every scope, channel web; a new one on each run):\n"
            f"  export BD_API_KEY={demo_key.key}"
        )
