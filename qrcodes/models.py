import base64

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.validators import guid_validator, no_control_characters
from merchant_portal.tenancy.models import MerchantScopedQuerySet

# `\Z`, not `$`: `$` also matches before a trailing newline.
merchant_qr_id_validator = RegexValidator(
    r"^[A-Za-z0-9-]{1,64}\Z", _("Use letters A–Z, digits and hyphens only (at most 64 characters).")
)
# A MobilePay PoS beaconId is a GUID or 15 digits (CONTRACTS §5.1).
beacon_id_validator = RegexValidator(
    r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9]{15})\Z",
    _("A beaconId is a GUID (8-4-4-4-12 hex digits) or 15 digits, as printed under the MobilePay QR."),
)
LOCATION_DESCRIPTION_MAX = 36
# Says nothing about who holds the PosId: that would tell one merchant another's till.
POS_ID_IN_USE = _("This PosId is already in use.")


def location_label(*, name: str, sales_unit_name: str, msn: str) -> str:
    return f"{name} · {sales_unit_name} ({msn})"


class Location(models.Model):
    """A shop, a till or a vending machine of a sales unit: where QR codes hang and check-ins happen."""

    sales_unit = models.ForeignKey(
        "tenancy.SalesUnit", on_delete=models.CASCADE, related_name="locations", verbose_name=_("sales unit")
    )
    name = models.CharField(_("name"), max_length=120, validators=[no_control_characters])
    address = models.CharField(_("address"), max_length=200, blank=True, validators=[no_control_characters])
    # MobilePay PoS v10 (legacy): the PosId whose check-in notifications land at this location. Stored lower-case;
    # one location in the whole installation, since notifications are routed by it alone.
    mobilepay_pos_id = models.CharField(
        _("MobilePay PoS id"), max_length=64, blank=True, db_index=True, validators=[guid_validator]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("mobilepay_pos_id"),
                condition=~models.Q(mobilepay_pos_id=""),
                name="uniq_location_pos_id",
                violation_error_message=POS_ID_IN_USE,
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """Two sales units may each have a "Kiosk": wherever locations are listed together, name the unit too.
        Load `sales_unit` with the location (select_related) where many are shown."""
        return location_label(name=self.name, sales_unit_name=self.sales_unit.name, msn=self.sales_unit.msn)

    def clean(self) -> None:
        self.mobilepay_pos_id = self.mobilepay_pos_id.strip().lower()
        # Checked here as well as by the constraint, so that the error belongs to the field (an expression
        # constraint reports a form-wide error).
        taken = Location.objects.filter(mobilepay_pos_id__iexact=self.mobilepay_pos_id).exclude(pk=self.pk)
        if self.mobilepay_pos_id and taken.exists():
            raise ValidationError({"mobilepay_pos_id": POS_ID_IN_USE}, code="unique")


class QrCode(models.Model):
    """A Vipps merchant callback QR code (QR API). Saved here first, then synced to Vipps by a task.

    The row is the desired state; `version` grows with every local change so that a sync finishing after a
    newer edit does not mark that edit as synced (compare-and-set on the version).
    """

    class Category(models.TextChoices):
        IN_STORE = "IN_STORE", _("In store")
        VENDING = "VENDING", _("Vending machine")

    class SyncState(models.TextChoices):
        PENDING = "pending", _("Pending")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Failed")
        DELETING = "deleting", _("Being deleted")

    class Kind(models.TextChoices):
        MERCHANT = "merchant", _("Merchant callback QR")
        MOBILEPAY = "mobilepay", _("Migrated MobilePay QR")

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="qr_codes")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="qr_codes")
    merchant_qr_id = models.CharField(_("Merchant QR id"), max_length=64, validators=[merchant_qr_id_validator])
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MERCHANT)
    location_description = models.CharField(max_length=LOCATION_DESCRIPTION_MAX)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.IN_STORE)
    sync_state = models.CharField(max_length=20, choices=SyncState.choices, default=SyncState.PENDING)
    sync_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    qr_content = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    sync_attempts = models.PositiveIntegerField(default=0)
    # When the beat job should (re)send this row; also a safety net for a lost task message.
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when the sync kept failing inside the portal (not at Vipps): the beat job leaves the row alone until
    # someone presses Retry now. `sync_state` keeps saying what was asked (pending, failed or deleting).
    quarantined_at = models.DateTimeField(null=True, blank=True)
    # What the last reconcile saw at Vipps (None: not seen, or Vipps does not say).
    remote_description = models.CharField(max_length=200, null=True, blank=True)
    remote_category = models.CharField(max_length=20, null=True, blank=True)
    missing_at_vipps = models.BooleanField(default=False)
    imported = models.BooleanField(default=False)
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

    @property
    def differences(self) -> list[tuple[str, str, str]]:
        """(field, here, at Vipps) where the last reconcile saw other values at Vipps than the synced ones here."""
        if self.sync_state != self.SyncState.SYNCED:
            return []
        diffs = []
        if self.remote_description is not None and self.remote_description != self.location_description:
            diffs.append((_("Location description"), self.location_description, self.remote_description))
        if self.remote_category is not None and self.remote_category != self.category:
            diffs.append((_("Category"), self.category, self.remote_category))
        return diffs


class QrImage(models.Model):
    """The official image behind `qrImageUrl`, cached: SVG for print, PNG for the screen."""

    class Format(models.TextChoices):
        SVG = "SVG", "SVG"
        PNG = "PNG", "PNG"

    qr_code = models.ForeignKey(QrCode, on_delete=models.CASCADE, related_name="images")
    format = models.CharField(max_length=3, choices=Format.choices)
    url = models.TextField()
    content = models.BinaryField()
    qr_content = models.TextField()
    fetched_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "qr_code__sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["qr_code", "format"], name="uniq_qr_image_format")]

    def __str__(self) -> str:
        return f"{self.qr_code_id} {self.format}"

    @property
    def data_uri(self) -> str:
        content_type = "image/png" if self.format == self.Format.PNG else "image/svg+xml"
        return f"data:{content_type};base64,{base64.b64encode(bytes(self.content)).decode()}"


class QrSheet(models.Model):
    """A printable PDF of QR codes (one location, or every location of a sales unit) rendered by a task.

    The PDF is kept in the database, not on a disk, so any web host can serve what any worker rendered.
    """

    class Layout(models.TextChoices):
        ONE = "1", _("A4, 1 per page")
        FOUR = "4", _("A4, 4 per page")
        TWELVE = "12", _("A4, 12 per page")
        LABELS = "labels", _("A4 label sheet, 2 × 7 labels of 99.1 × 38.1 mm")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="qr_sheets")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, blank=True, related_name="qr_sheets")
    layout = models.CharField(max_length=10, choices=Layout.choices, default=Layout.TWELVE)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    code_count = models.PositiveIntegerField(default=0)
    filename = models.CharField(max_length=200)
    pdf = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename


class Reconciliation(models.Model):
    """One comparison of a sales unit's QR codes here with those at Vipps (on demand or periodic)."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="qr_reconciliations")
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    imported = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    differing = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.sales_unit_id} {self.started_at:%Y-%m-%d %H:%M}"
