from argparse import ArgumentParser

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from notifications.models import WebhookEventType
from notifications.services.webhooks import webhook_subscription_create
from orders.models import Channel


class Command(BaseCommand):
    help = (
        "Subscribe a shop's URL to the order events of one channel, signed with SECRET. "
        "Prints the subscription's id on the last line."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--url", required=True, help="http(s) URL the events are posted to")
        parser.add_argument(
            "--secret",
            required=True,
            help="key of the webhook-signature HMAC: whsec_<base64> or any text",
        )
        parser.add_argument("--channel", required=True, choices=Channel.values)
        parser.add_argument(
            "--events",
            default=",".join(WebhookEventType.values),
            help="comma-separated event types (default: all): "
            + ", ".join(WebhookEventType.values),
        )

    def handle(self, *args: object, **options: str) -> None:
        events = [name.strip() for name in options["events"].split(",") if name.strip()]
        unknown = [name for name in events if name not in WebhookEventType.values]
        if unknown or not events:
            raise CommandError(
                f"Unknown event type(s): {', '.join(unknown) or '(none given)'}. "
                f"Known: {', '.join(WebhookEventType.values)}"
            )
        try:
            subscription = webhook_subscription_create(
                url=options["url"],
                secret=options["secret"],
                channel=options["channel"],
                event_types=events,
            )
        except ValidationError as error:
            messages = [
                f"{field}: {message}" if field != "__all__" else message
                for field, field_messages in error.message_dict.items()
                for message in field_messages
            ]
            raise CommandError("; ".join(messages)) from error
        self.stdout.write(
            f"Subscribed {subscription.url} to {', '.join(events)} on channel "
            f"{subscription.channel}. Subscription id:"
        )
        self.stdout.write(str(subscription.pk))
