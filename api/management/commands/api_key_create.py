from argparse import ArgumentParser

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.keys import api_key_create
from api.models import Scope
from orders.models import Channel


class Command(BaseCommand):
    help = "Make an API key for a storefront; the key is printed once, on the last line."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--channel", required=True, choices=Channel.values)
        parser.add_argument(
            "--scopes",
            default=",".join(Scope.values),
            help=f"Comma-separated, from: {', '.join(Scope.values)} (default: all)",
        )

    def handle(self, *args: object, **options: str) -> None:
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        try:
            made = api_key_create(
                name=options["name"], channel=options["channel"], scopes=scopes, by=None
            )
        except (ValidationError, ValueError) as error:
            raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from error
        self.stdout.write(
            f"API key {made.api_key.prefix} for {made.api_key.name} "
            f"(channel {made.api_key.channel}, scopes {made.api_key.scopes}). "
            "It is shown only now; keep it secret:"
        )
        self.stdout.write(made.key)
