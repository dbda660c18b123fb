from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.fixtures.seed import SeedRefused, seed_shop


class Command(BaseCommand):
    help = (
        "Create a proportionate shop of about N order lines for benchmarks: products, "
        "suppliers, customers, 90 days of orders (about a fifth backordered), open purchase "
        "orders, and stock with a ledger that check_stock finds consistent. Refused in "
        "production, and on a database that has orders unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--order-lines", type=int, required=True, help="About how many order lines to create."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same shop."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the seeded shop even though the database already has orders.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            f"Seeding about {options['order_lines']:,} order lines (seed {options['seed']})…"
        )
        try:
            counts = seed_shop(
                order_lines=options["order_lines"],
                seed=options["seed"],
                force=options["force"],
                progress=self.stdout.write,
            )
        except SeedRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"Seeded {counts.summary()} in {counts.seconds:.1f} s.")
        )
