"""API keys for POS vendors, the responses stored for their Idempotency-Keys, and the keys' outbound webhooks.

A key is shown once: `vmp_<prefix>_<secret>`. Only the prefix (to find the row) and the SHA-256 of the whole key
are stored; the secret has 256 bits of entropy, so a fast hash is enough (as in healthchecks' API keys).

A key may have one webhook endpoint (Standard Webhooks: https://www.standardwebhooks.com/). Events are written as
`WebhookDelivery` rows in the transaction that changed the check-in or payment (an outbox), and delivered from
there with retries scheduled in the database; every attempt is kept as a `WebhookAttempt`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.crypto import EncryptedTextField, mask_secret
from merchant_portal.tenancy.models import MerchantScopedQuerySet

KEY_SCHEME = "vmp"


class ApiKey(models.Model):
    class Access(models.TextChoices):
        READ_ONLY = "read", _("Read-only")
        READ_WRITE = "write", _("Read-write")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    access = models.CharField(max_length=5, choices=Access.choices, default=Access.READ_ONLY)
    # Empty means "all": a key limited to sales units or locations sees nothing outside them (404).
    sales_units = models.ManyToManyField("tenancy.SalesUnit", blank=True, related_name="+")
    locations = models.ManyToManyField("qrcodes.Location", blank=True, related_name="+")
    # Whether either list above is non-empty, kept by `api_key_create` (the only place limits are set): an
    # unlimited key, the common case, then costs no query for its limits on each request.
    limited = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    merchant_lookup = "merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        return f"{KEY_SCHEME}_{self.prefix}_…"

    @property
    def audit_label(self) -> str:
        return f"API key {self.name} ({self.prefix})"

    @property
    def can_write(self) -> bool:
        return self.access == self.Access.READ_WRITE

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def limits(self) -> tuple[frozenset[int], frozenset[int]]:
        """The ids of the sales units and of the locations this key is limited to (empty: no limit of that kind).

        Read once per key object, i.e. once per API request, as ids only (a SalesUnit would decrypt its
        secrets), and not at all for an unlimited key.
        """
        cached = self.__dict__.get("_limits")
        if cached is None:
            units = locations = frozenset()
            if self.limited:
                units = frozenset(
                    ApiKey.sales_units.through.objects.filter(apikey_id=self.pk).values_list("salesunit_id", flat=True)
                )
                locations = frozenset(
                    ApiKey.locations.through.objects.filter(apikey_id=self.pk).values_list("location_id", flat=True)
                )
            cached = self.__dict__["_limits"] = (units, locations)
        return cached


class IdempotencyRecord(models.Model):
    """The response to one POST with an Idempotency-Key, replayed when the same key comes again."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=300)  # method and path
    request_hash = models.CharField(max_length=64)
    # Null while the first request is still running: a duplicate arriving then gets 409.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    merchant_lookup = "api_key__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key", "endpoint"], name="uniq_idempotency_key_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class WebhookEventType(models.TextChoices):
    """What an endpoint can subscribe to. A new type is a new choice here and a `vendor_events_emit` call."""

    CHECKIN_CREATED = "checkin.created", _("A customer checked in")
    PAYMENT_STATE_CHANGED = "payment.state_changed", _("A payment's state or amounts changed")


# Sent on request from the webhook's page, whatever the endpoint subscribed to.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    """Where an API key's events are sent, which ones, and the secret they are signed with."""

    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)  # WebhookEventType values
    # Standard Webhooks' `whsec_<base64 of 32 random bytes>`; shown once, when made or rotated.
    secret = EncryptedTextField()
    # After a rotation the old secret signs too, until `previous_secret_until` (zero-downtime rotation).
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "api_key__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Webhook of {self.api_key.audit_label}"

    @property
    def masked_secret(self) -> str:
        return mask_secret(self.secret)

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.event_types

    def get_event_types_display(self) -> list[str]:
        labels = dict(WebhookEventType.choices)
        return [str(labels.get(value, value)) for value in self.event_types]


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body, its `webhook-id` (the same on every attempt), and where its
    delivery stands. `attempts` counts the attempts of the current round (a manual resend starts a new one)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        # Given up because the portal itself failed on it (not the receiver): see `webhook_delivery_attempt`.
        QUARANTINED = "quarantined", _("Quarantined")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    body = models.TextField()  # serialised once; every attempt sends (and signs) the same bytes
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # One attempt at a time: a worker takes the row by compare-and-set; a killed worker's lease runs out.
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    merchant_lookup = "endpoint__api_key__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due", condition=Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back (the response excerpt masked)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)

    merchant_lookup = "delivery__endpoint__api_key__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of {self.delivery_id}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
