from django.core.management.base import BaseCommand, CommandParser

from notifications.updates.purchasing import purchase_orders_sweep_overdue


class Command(BaseCommand):
    help = (
        "Give overdue purchase order lines a new date, recompute the promises they feed "
        "and tell the customers (what the daily beat task does, on demand)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="Days from today (default: supplier lead time)."
        )

    def handle(self, *args: object, **options: object) -> None:
        days = options["days"]
        result = purchase_orders_sweep_overdue(extra_days=days if isinstance(days, int) else None)
        self.stdout.write(
            f"Moved {result.lines_moved} overdue lines on {len(result.purchase_orders_moved)} "
            f"purchase orders; {len(result.promise_changes)} promises changed."
        )
