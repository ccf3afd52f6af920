"""The outbox relay as a loop of its own (Procfile `relay`): stored webhook deliveries are filed and handed to
the workers within a fraction of a second, so a check-in reaches the staff console in under a second. Beat
also runs the relay every second as a fallback; the two never publish the same row twice (rows are claimed
with SKIP LOCKED)."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from webhooks_app.services import webhook_events_relay

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish stored webhook events to the workers in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.25, help="seconds between runs when idle")
        parser.add_argument("--once", action="store_true", help="run one pass and exit")

    def handle(self, *args, interval: float, once: bool, **options):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        # honcho sends SIGTERM on Ctrl-C, a terminal SIGINT: either finishes the pass under way and exits 0.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if not once:
            logger.info("webhook relay started: a pass every %g s while idle", interval)
        while not stopping:
            try:
                published = webhook_events_relay()
            except Exception:
                # A broker or database outage: the rows stay due; try again shortly.
                logger.exception("webhook relay pass failed")
                published = 0
            else:
                # Several passes a second: a heartbeat, not news (each published event is logged by the worker).
                logger.debug("webhook relay pass: %d published", published)
            if once:
                return
            if not published:
                time.sleep(interval)
            # Between passes, as a request would: drop a connection the database or a failover has broken.
            close_old_connections()
        logger.info("webhook relay stopped")
