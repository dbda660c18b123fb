from argparse import ArgumentParser

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.hooks.services import shop_connection_create
from api.models import Platform, SkuMapping
from orders.models import Channel


class Command(BaseCommand):
    help = (
        "Connect a Shopify or WooCommerce shop: its order webhooks are taken at the "
        "URL path printed on the last line."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--platform", required=True, choices=Platform.values)
        parser.add_argument("--domain", required=True, help="e.g. example.myshopify.com")
        parser.add_argument(
            "--secret",
            required=True,
            help="Shopify: the app's client secret; WooCommerce: the webhook's secret",
        )
        parser.add_argument("--channel", required=True, choices=Channel.values)
        parser.add_argument("--warehouse", default=None, help="a warehouse code (default: first)")
        parser.add_argument(
            "--sku-mapping", default=SkuMapping.EXACT, choices=SkuMapping.values, dest="sku_mapping"
        )

    def handle(self, *args: object, **options: str) -> None:
        try:
            connection = shop_connection_create(
                platform=options["platform"],
                domain=options["domain"],
                secret=options["secret"],
                channel=options["channel"],
                warehouse_code=options["warehouse"],
                sku_mapping=options["sku_mapping"],
            )
        except ValidationError as error:
            messages = [
                f"{field}: {message}" if field != "__all__" else message
                for field, field_messages in error.message_dict.items()
                for message in field_messages
            ]
            raise CommandError("; ".join(messages)) from error
        warehouse = connection.warehouse.code if connection.warehouse else "the first by code"
        self.stdout.write(
            f"Connected {connection} on channel {connection.channel}, warehouse {warehouse}. "
            f"Point the shop's order webhooks at this path on this server:"
        )
        self.stdout.write(connection.webhook_path)
