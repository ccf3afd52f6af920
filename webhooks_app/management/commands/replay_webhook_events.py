from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from merchant_portal.tenancy.models import Merchant
from webhooks_app import services
from webhooks_app.models import WebhookDelivery, WebhookEvent


class Command(BaseCommand):
    help = "Process stored webhook events again: one by id, or all in the given statuses received since a time."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, help="replay this one event")
        parser.add_argument("--delivery", type=int, help="file this one quarantined delivery again")
        parser.add_argument("--since", help="ISO date or date-time, e.g. 2026-03-01T08:00 (local time)")
        parser.add_argument(
            "--status",
            action="append",
            choices=[s.value for s in WebhookEvent.Status],
            help="statuses to replay (repeatable; default: failed); quarantined also re-files quarantined deliveries",
        )
        parser.add_argument("--merchant", help="only this merchant (slug)")

    def handle(self, *args, **options):
        if options["delivery"]:
            delivery = (
                WebhookDelivery.objects.select_related("sales_unit__merchant")
                .filter(pk=options["delivery"], outcome=WebhookDelivery.Outcome.QUARANTINED)
                .first()
            )
            if delivery is None:
                raise CommandError(f"No quarantined webhook delivery {options['delivery']}")
            services.webhook_delivery_replay(delivery=delivery, actor=None)
            self.stdout.write(f"Delivery {delivery.pk} filed again.")
            return
        if options["id"]:
            event = WebhookEvent.objects.select_related("sales_unit__merchant").filter(pk=options["id"]).first()
            if event is None:
                raise CommandError(f"No webhook event {options['id']}")
            services.webhook_event_replay(event=event, actor=None)
            self.stdout.write(f"Event {event.pk} queued again.")
            return
        if not options["since"]:
            raise CommandError("Give --id, --delivery or --since")
        try:
            since = datetime.fromisoformat(options["since"])
        except ValueError:
            raise CommandError("--since must be an ISO date or date-time")
        if timezone.is_naive(since):
            since = timezone.make_aware(since)
        merchant = None
        if options["merchant"]:
            merchant = Merchant.objects.filter(slug=options["merchant"]).first()
            if merchant is None:
                raise CommandError(f"No merchant {options['merchant']}")
        statuses = tuple(options["status"] or [WebhookEvent.Status.FAILED])
        count = services.webhook_events_replay(merchant=merchant, since=since, actor=None, statuses=statuses)
        self.stdout.write(f"{count} event(s) queued again.")
