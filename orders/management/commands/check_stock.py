from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from orders.checks import stock_check


class Command(BaseCommand):
    help = (
        "Verify that the ledger sums to the stock levels, that order lines agree with "
        "stock, shipments and cancellations, that no purchase order line is received "
        "beyond what was ordered or apart from the ledger's receipts, and that each purchase "
        "order's status agrees with what it received, and that every transfer's units "
        "are out of one ledger and (once received) into the other. Exits non-zero "
        "listing every problem."
    )

    def handle(self, *args: object, **options: object) -> None:
        result = stock_check()
        if result.consistent:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Stock is consistent: {result.stock_levels} stock levels, "
                    f"{result.ledger_rows} ledger rows, {result.order_lines} order lines checked."
                )
            )
            return
        for problem in result.problems:
            self.stdout.write(f"- {problem}")
        count = len(result.problems)
        raise CommandError(
            f"Stock is NOT consistent: {count} problem{'s' if count != 1 else ''} listed above."
        )
