"""`manage.py recompute_promises [--product SKU]`: every queue's promises, recomputed
through the use case customers feel (whoever's date moves is told), in batches
of queues, each its own transaction, with a progress bar."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inventory.models import Product
from notifications.updates.order_changes import promises_refresh
from orders.models import OrderLine

BATCH_QUEUES = 100


class Command(BaseCommand):
    help = (
        "Recompute the promised ship date of every waiting line (or of one product's), "
        "and tell the customers whose date moved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--product", metavar="SKU", help="Only this product's queues.")

    def handle(self, *args: object, **options: object) -> None:
        waiting = OrderLine.objects.backordered()
        sku = options.get("product")
        if isinstance(sku, str) and sku:
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                raise CommandError(f"No product with SKU {sku!r}.")
            waiting = waiting.filter(product=product)
        queues = sorted(set(waiting.values_list("product_id", "warehouse_id")))
        lines = waiting.count()
        started = time.monotonic()
        changed = 0
        with tqdm(
            total=len(queues), unit="queue", file=self.stderr, disable=None, leave=False
        ) as bar:
            for start in range(0, len(queues), BATCH_QUEUES):
                batch = queues[start : start + BATCH_QUEUES]
                changed += len(promises_refresh(keys=batch, cause="recompute_promises"))
                bar.update(len(batch))
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Recomputed {lines} waiting lines in {len(queues)} queues in {seconds:.1f} s; "
            f"{changed} promises changed."
        )
