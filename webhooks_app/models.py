from django.db import models
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.crypto import EncryptedTextField, mask_secret
from merchant_portal.tenancy.models import MerchantScopedQuerySet


class WebhookSubscription(models.Model):
    """A registration the portal made at Vipps (Webhooks API). The secret is returned only once, at registration."""

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="webhook_subscriptions")
    vipps_id = models.CharField("Vipps id", max_length=64, unique=True)
    url = models.URLField(max_length=300)
    events = models.JSONField(default=list)
    secret = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.vipps_id} ({', '.join(self.events)})"

    @property
    def secret_masked(self) -> str:
        return mask_secret(self.secret)


class WebhookSync(models.Model):
    """The outcome of the last registration check of a sales unit (shown on its webhooks page)."""

    sales_unit = models.OneToOneField("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="webhook_sync")
    checked_at = models.DateTimeField()
    ok = models.BooleanField(default=False)
    message = models.TextField(blank=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.sales_unit_id}: {'ok' if self.ok else 'problem'}"


class WebhookDelivery(models.Model):
    """Every hit on an inbound endpoint, stored before (and whatever the outcome of) any processing."""

    class Source(models.TextChoices):
        VIPPS = "vipps", _("Vipps webhook")
        MOBILEPAY_POS = "mobilepay_pos", _("MobilePay PoS notification")

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received (verified, stored; the relay files it as an event)")
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Duplicate (already stored)")
        REJECTED = "rejected", _("Rejected")
        QUARANTINED = "quarantined", _("Quarantined (verified, but cannot be filed; replay after a fix)")

    class BodyEncoding(models.TextChoices):
        TEXT = "", _("UTF-8 text")
        BASE64 = "base64", _("Base64 of bytes that are not UTF-8")

    source = models.CharField(max_length=20, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    body = EncryptedTextField(blank=True)  # raw, as received; encrypted because it may carry a customerToken
    # A verified body that is not UTF-8 is kept byte for byte (base64), so it can be filed once a fix can read it.
    body_encoding = models.CharField(max_length=10, choices=BodyEncoding.choices, default="", blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    # Filing failures: counted, backed off, and quarantined after a bounded number (see services).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Classified in the request; the relay turns received deliveries into (deduplicated) events.
    event_type = models.CharField(max_length=80, blank=True)
    dedupe_key = models.CharField(max_length=300, blank=True)
    # Known once the MSN (or PoS) is recognised; rejected hits of unknown senders have none.
    sales_unit = models.ForeignKey(
        "tenancy.SalesUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        "WebhookEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["id"], name="webhook_delivery_received", condition=models.Q(outcome="received")),
            models.Index(
                fields=["sales_unit", "received_at"],
                name="webhook_delivery_quarantined",
                condition=models.Q(outcome="quarantined"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.outcome} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class WebhookEvent(models.Model):
    """One event, deduplicated, and the outbox row its processing is driven from.

    pending -> queued (relay published a task) -> processed | parked (retried later) | held (no handler for
    this event type yet) | failed (retried with backoff) -> quarantined (failed MAX_ATTEMPTS times; kept for
    replay after a fix, never retried on its own, so it cannot hold up anything else).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        QUEUED = "queued", _("Queued")
        PROCESSED = "processed", _("Processed")
        PARKED = "parked", _("Parked (cannot be placed yet; retried)")
        HELD = "held", _("Kept (not applied by this version)")
        FAILED = "failed", _("Failed")
        QUARANTINED = "quarantined", _("Quarantined (failed repeatedly; replay after a fix)")

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="webhook_events")
    event_type = models.CharField(max_length=80)
    dedupe_key = models.CharField(max_length=300)
    payload = models.JSONField()  # masked: no token, no full phone number (shown in the event log)
    body = EncryptedTextField()  # the raw body, for the handler
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sales_unit", "event_type", "dedupe_key"], name="uniq_webhook_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_event_due"),
            models.Index(fields=["sales_unit", "event_type", "-received_at"], name="webhook_event_last"),
            # The dashboard's health per sales unit: the last event, the last 24 h, failed and parked counts.
            models.Index(fields=["sales_unit", "received_at"], name="webhook_event_unit_time"),
            models.Index(fields=["sales_unit", "status"], name="webhook_event_unit_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.dedupe_key} ({self.status})"


class PosMerchantId(models.Model):
    """The MobilePay MerchantId first seen in a PoS notification routed to this sales unit. Nothing else tells
    the portal which MobilePay merchant a sales unit is (GetCheckIn does not say), so later notifications
    must carry the same one: a PosId alone cannot move a check-in to another MobilePay merchant's tills."""

    sales_unit = models.OneToOneField("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="+")
    merchant_id = models.CharField("MobilePay MerchantId", max_length=36)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.sales_unit_id}: {self.merchant_id}"
