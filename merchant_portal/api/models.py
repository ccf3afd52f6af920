"""API keys for POS vendors and the responses stored for their Idempotency-Keys.

A key is shown once: `vmp_<prefix>_<secret>`. Only the prefix (to find the row) and the SHA-256 of the whole key
are stored; the secret has 256 bits of entropy, so a fast hash is enough (as in healthchecks' API keys).
"""

from django.conf import settings
from django.db import models

from merchant_portal.tenancy.models import MerchantScopedQuerySet

KEY_SCHEME = "vmp"


class ApiKey(models.Model):
    class Access(models.TextChoices):
        READ_ONLY = "read", "Read-only"
        READ_WRITE = "write", "Read-write"

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    access = models.CharField(max_length=5, choices=Access.choices, default=Access.READ_ONLY)
    # Empty means "all": a key limited to sales units or locations sees nothing outside them (404).
    sales_units = models.ManyToManyField("tenancy.SalesUnit", blank=True, related_name="+")
    locations = models.ManyToManyField("qrcodes.Location", blank=True, related_name="+")
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
