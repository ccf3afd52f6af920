from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from merchant_portal.core.crypto import EncryptedTextField
from merchant_portal.tenancy.models import MerchantScopedQuerySet


class CheckIn(models.Model):
    """A customer who scanned a merchant callback QR code (or checked in at a MobilePay PoS) and can be asked
    to pay with the customerToken until it expires (15 minutes for QR check-ins)."""

    class Source(models.TextChoices):
        QR = "qr", _("QR code")
        MOBILEPAY_POS = "mobilepay_pos", _("MobilePay PoS")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Waiting")
        EXPIRED = "expired", _("Expired")

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
        indexes = [
            models.Index(fields=["location", "status", "-initiated_at"], name="checkin_console"),
            # The dashboard counts a merchant's check-ins of a day or a month: a range per sales unit.
            models.Index(fields=["sales_unit", "initiated_at"], name="checkin_unit_time"),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk} at {self.location_id} ({self.status})"


class Payment(models.Model):
    """A push payment request (ePayment) and what Vipps last confirmed about it.

    `state` and the amounts are only written from Vipps' answers (create, GET payment, a modification's
    response); a webhook only makes us ask. The amounts only grow, so answers are merged with max() and their
    order does not matter. Amounts are in minor units (øre, cents).
    """

    class State(models.TextChoices):
        CREATED = "CREATED", _("Waiting for the customer")
        AUTHORIZED = "AUTHORIZED", _("Authorized")
        ABORTED = "ABORTED", _("Aborted by the customer")
        EXPIRED = "EXPIRED", _("Expired")
        TERMINATED = "TERMINATED", _("Cancelled before authorization")

    class Sending(models.TextChoices):
        QUEUED = "queued", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Refused by Vipps")

    class Anomaly(models.TextChoices):
        # Why Vipps' last answer was not applied (or the portal stopped asking); the label is what staff read.
        REFERENCE = "reference", _("Vipps answered about another payment reference than this one.")
        CURRENCY = "currency", _("Vipps reported another currency than this payment's.")
        AMOUNTS = "amounts", _("Vipps reported amounts that cannot be right for this payment.")
        UNREADABLE = "unreadable", _("Vipps' answer could not be read.")
        ERROR = "error", _("Checking this payment with Vipps failed.")

    FINAL_STATES = (State.ABORTED, State.EXPIRED, State.TERMINATED)
    # Failed checks in a row (polls, sends, answers not applied) after which the portal stops asking on its own.
    QUARANTINE_AFTER = 5

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="payments")
    sales_unit = models.ForeignKey("tenancy.SalesUnit", on_delete=models.CASCADE, related_name="payments")
    location = models.ForeignKey(
        "qrcodes.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    checkin = models.ForeignKey(CheckIn, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments")
    reference = models.CharField(max_length=50)
    # Stored before the first attempt and sent on every retry of the create call.
    idempotency_key = models.CharField(max_length=50, unique=True)
    currency = models.CharField(max_length=3)
    amount = models.PositiveBigIntegerField()
    description = models.CharField(max_length=100)
    receipt = models.JSONField(null=True, blank=True)  # Order Management `Receipt`, minor units
    # The phone number or customerToken, only needed until Vipps has the request.
    customer = EncryptedTextField(blank=True)
    customer_label = models.CharField(max_length=40, blank=True)  # masked phone, or "check-in"
    auto_capture = models.BooleanField(default=False)
    sending = models.CharField(max_length=10, choices=Sending.choices, default=Sending.QUEUED)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CREATED)
    authorized_amount = models.PositiveBigIntegerField(default=0)
    captured_amount = models.PositiveBigIntegerField(default=0)
    refunded_amount = models.PositiveBigIntegerField(default=0)
    cancelled_amount = models.PositiveBigIntegerField(default=0)
    psp_reference = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    checked_at = models.DateTimeField(null=True, blank=True)  # last GET payment
    next_check_at = models.DateTimeField(null=True, blank=True)  # when reconciliation asks Vipps next
    # The last answer that was not applied and why, in English without tokens or phone numbers; cleared by the
    # next answer that is applied (the audit log keeps the history for the timeline).
    anomaly_code = models.CharField(max_length=20, choices=Anomaly.choices, blank=True)
    anomaly = models.TextField(blank=True)
    anomaly_at = models.DateTimeField(null=True, blank=True)
    check_failures = models.PositiveIntegerField(default=0)

    merchant_lookup = "merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["sales_unit", "reference"], name="uniq_payment_reference")]
        indexes = [
            # The list is keyset-paginated on id (newest first), with or without a state or location filter.
            models.Index(fields=["merchant", "-id"], name="payment_list"),
            models.Index(fields=["merchant", "state", "-id"], name="payment_list_state"),
            models.Index(fields=["location", "-id"], name="payment_list_location"),
            models.Index(fields=["next_check_at"], name="payment_due_check"),
            models.Index(fields=["reference"], name="payment_reference"),
            # The dashboard sums a merchant's payments of a day or a month.
            models.Index(fields=["merchant", "created_at"], name="payment_merchant_time"),
            # /healthz counts the payments the portal stopped checking: few rows, so a small partial index.
            models.Index(
                fields=["check_failures"],
                condition=models.Q(check_failures__gte=5),
                name="payment_quarantined",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.reference}"

    @property
    def merchant_status(self):
        """What a merchant calls the state (payments.status): Vipps' state, the amounts and the sending."""
        from .status import merchant_status

        return merchant_status(self)

    @property
    def status_display(self) -> str:
        return self.merchant_status.label

    @property
    def customer_display(self) -> str:
        """The customer as staff may see them: the masked phone number when it is known, never the token."""
        if self.customer_label and self.customer_label != "check-in":
            return self.customer_label
        if self.checkin_id and self.checkin.phone_masked:
            return self.checkin.phone_masked
        return str(_("The checked-in customer"))

    @property
    def cancellable(self) -> int:
        """What a cancel would release: the whole request before the customer answered, else what is authorized
        and not captured (0 when a cancel is not possible)."""
        if self.sending != self.Sending.SENT or self.is_final or self.cancelled_amount:
            return 0
        if self.state == self.State.CREATED:
            return self.amount
        return self.capturable

    @property
    def error_display(self) -> str:
        """The stored error in the reader's language (a worker wrote it in English)."""
        from .vipps_errors import localized

        return localized(self.error_message)

    @property
    def quarantined(self) -> bool:
        return self.check_failures >= self.QUARANTINE_AFTER

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def capturable(self) -> int:
        if self.state != self.State.AUTHORIZED or self.cancelled_amount:
            return 0
        return max(0, self.authorized_amount - self.captured_amount)

    @property
    def refundable(self) -> int:
        return max(0, self.captured_amount - self.refunded_amount)


class PaymentOperation(models.Model):
    """One capture, refund or cancel, asked for once and executed until Vipps has answered it.

    The row is created before any call and carries the Idempotency-Key every attempt sends; `request_token`
    (from the form, or "auto-capture") makes a double click or a repeated rule the same row.
    """

    class Kind(models.TextChoices):
        # Nouns for the operations table; a context keeps them apart from the buttons and links of that name.
        CAPTURE = "capture", pgettext_lazy("payment operation", "Capture")
        REFUND = "refund", pgettext_lazy("payment operation", "Refund")
        CANCEL = "cancel", pgettext_lazy("payment operation", "Cancel")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Refused by Vipps")

    QUARANTINE_AFTER = 5

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.PositiveBigIntegerField(default=0)  # 0 for a cancel: Vipps releases what is left
    request_token = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=50, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The worker running it holds it until then (compare-and-set); a killed worker's lease runs out.
    leased_until = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    # Unexpected failures in a row (a bug, an answer that cannot be read or applied), apart from Vipps being
    # down; at QUARANTINE_AFTER the operation stays pending (its amount stays reserved) until staff replay it.
    failures = models.PositiveIntegerField(default=0)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    merchant_lookup = "payment__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "request_token"], name="uniq_payment_operation_request")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="payment_operation_due"),
            models.Index(
                fields=["quarantined_at"],
                condition=models.Q(quarantined_at__isnull=False),
                name="payment_op_quarantined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.payment_id} ({self.status})"

    @property
    def quarantined(self) -> bool:
        return self.quarantined_at is not None and self.status == self.Status.PENDING

    @property
    def error_display(self) -> str:
        """The stored error in the reader's language (a worker wrote it in English)."""
        from .vipps_errors import localized

        return localized(self.error_message)


class PaymentRule(models.Model):
    """What happens automatically at a location: a payment request on every check-in (vending machines),
    and capture as soon as a payment is authorized."""

    location = models.OneToOneField("qrcodes.Location", on_delete=models.CASCADE, related_name="payment_rule")
    request_on_checkin = models.BooleanField(default=False)
    amount = models.PositiveBigIntegerField(null=True, blank=True)  # the fixed amount, or the form's default
    description = models.CharField(_("description"), max_length=100, blank=True)
    auto_capture = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "location__sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Payment rule of {self.location_id}"
