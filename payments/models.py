from django.db import models

from merchant_portal.core.crypto import EncryptedTextField
from merchant_portal.tenancy.models import MerchantScopedQuerySet


class CheckIn(models.Model):
    """A customer who scanned a merchant callback QR code (or checked in at a MobilePay PoS) and can be asked
    to pay with the customerToken until it expires (15 minutes for QR check-ins)."""

    class Source(models.TextChoices):
        QR = "qr", "QR code"
        MOBILEPAY_POS = "mobilepay_pos", "MobilePay PoS"

    class Status(models.TextChoices):
        ACTIVE = "active", "Waiting"
        EXPIRED = "expired", "Expired"

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="checkins")
    location = models.ForeignKey("qrcodes.Location", on_delete=models.CASCADE, related_name="checkins")
    qr_code = models.ForeignKey(
        "qrcodes.QrCode", on_delete=models.SET_NULL, null=True, blank=True, related_name="checkins"
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.QR)
    merchant_qr_id = models.CharField(max_length=128, blank=True)
    pos_id = models.CharField("MobilePay PoS id", max_length=64, blank=True)
    customer_token = EncryptedTextField()
    # SHA-256 of the token: the token is encrypted with a random IV, so uniqueness is enforced on its digest.
    token_digest = models.CharField(max_length=64)
    initiated_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    phone_masked = models.CharField(max_length=20, blank=True)
    event = models.ForeignKey(
        "webhooks_app.WebhookEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-initiated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["sales_unit", "token_digest"], name="uniq_checkin_token")]
        indexes = [models.Index(fields=["location", "status", "-initiated_at"], name="checkin_console")]

    def __str__(self) -> str:
        return f"Check-in {self.pk} at {self.location_id} ({self.status})"
