from django.core.validators import RegexValidator
from django.db import models

from merchant_portal.tenancy.models import MerchantScopedQuerySet

merchant_qr_id_validator = RegexValidator(
    r"^[A-Za-z0-9-]{1,64}$", "Use letters A–Z, digits and hyphens only (at most 64 characters)."
)


class Location(models.Model):
    """A shop, a till or a vending machine of a sales unit: where QR codes hang and check-ins happen."""

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=200, blank=True)
    # MobilePay PoS v10 (legacy): the PosId whose check-in notifications land at this location.
    mobilepay_pos_id = models.CharField("MobilePay PoS id", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QrCode(models.Model):
    """A Vipps merchant callback QR code (QR API). Saved here first, then synced to Vipps by a task."""

    class Category(models.TextChoices):
        IN_STORE = "IN_STORE", "In store"
        VENDING = "VENDING", "Vending machine"

    class SyncState(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"
        DELETING = "deleting", "Being deleted"

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="qr_codes")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="qr_codes")
    merchant_qr_id = models.CharField("Merchant QR id", max_length=64, validators=[merchant_qr_id_validator])
    location_description = models.CharField(max_length=36)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.IN_STORE)
    sync_state = models.CharField(max_length=20, choices=SyncState.choices, default=SyncState.PENDING)
    sync_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    qr_content = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["merchant_qr_id"]
        constraints = [
            models.UniqueConstraint(fields=["sales_unit", "merchant_qr_id"], name="uniq_qr_per_msn"),
        ]

    def __str__(self) -> str:
        return self.merchant_qr_id
