from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.crypto import EncryptedTextField, mask_secret

from .roles import Perm, Role, role_has_perm


class MerchantScopedQuerySet(models.QuerySet):
    """The one way merchant data is reached: `Model.objects.for_merchant(merchant)`.

    Each scoped model names the lookup from itself to its Merchant in `merchant_lookup`.
    """

    def for_merchant(self, merchant: "Merchant") -> "MerchantScopedQuerySet":
        return self.filter(**{self.model.merchant_lookup: merchant})


class Merchant(models.Model):
    """The organisation that runs the portal account: it owns sales units, members and everything below."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    merchant_lookup = "merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="uniq_membership")]
        ordering = ["merchant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"

    def has_perm(self, perm: Perm) -> bool:
        return role_has_perm(self.role, perm)


class Market(models.TextChoices):
    NORWAY = "NO", _("Norway")
    DENMARK = "DK", _("Denmark")
    FINLAND = "FI", _("Finland")


class Currency(models.TextChoices):
    NOK = "NOK", "NOK"
    DKK = "DKK", "DKK"
    EUR = "EUR", "EUR"


MARKET_CURRENCY = {Market.NORWAY: Currency.NOK, Market.DENMARK: Currency.DKK, Market.FINLAND: Currency.EUR}


class Environment(models.TextChoices):
    SANDBOX = "sandbox", _("Local sandbox")
    TEST = "test", _("Vipps test (MT)")
    PRODUCTION = "production", _("Production")


# MSN: the ePayment spec says 4–6 digits, the current events page 4–10 (CONTRACTS.md §1.3): accept the wider.
msn_validator = RegexValidator(r"^[0-9]{4,10}$", _("A Merchant Serial Number is 4 to 10 digits."))


class SalesUnit(models.Model):
    """A Vipps MobilePay sales unit: the MSN and the API keys the portal uses for it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sales_units")
    msn = models.CharField("MSN", max_length=10, validators=[msn_validator])
    name = models.CharField(_("name"), max_length=120)
    market = models.CharField(_("market"), max_length=2, choices=Market.choices, default=Market.NORWAY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.NOK)
    environment = models.CharField(
        _("environment"), max_length=20, choices=Environment.choices, default=Environment.SANDBOX
    )
    client_id = models.CharField(_("client id"), max_length=100)
    client_secret = EncryptedTextField(_("client secret"))
    subscription_key = EncryptedTextField(_("subscription key"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    merchant_lookup = "merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # Vipps issues an MSN once per environment; two merchants here cannot both own it.
            models.UniqueConstraint(fields=["environment", "msn"], name="uniq_sales_unit_msn"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.msn})"

    def __repr__(self) -> str:
        return f"<SalesUnit {self.pk} msn={self.msn}>"

    @property
    def client_secret_masked(self) -> str:
        return mask_secret(self.client_secret)

    @property
    def subscription_key_masked(self) -> str:
        return mask_secret(self.subscription_key)


class VippsCall(models.Model):
    """One HTTP exchange with Vipps (the outbound call log), recorded by the client's on_call hook.

    Headers and bodies are stored masked (vipps.masking): no secret, token or full phone number.
    """

    sales_unit = models.ForeignKey(SalesUnit, on_delete=models.CASCADE, related_name="vipps_calls")
    started_at = models.DateTimeField(db_index=True)
    operation = models.CharField(max_length=60)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    # The ePayment reference in the path, so a payment's page can list its calls.
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=50, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    merchant_lookup = "sales_unit__merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["sales_unit", "-started_at"], name="vippscall_unit_time"),
            # Every logged retry counts the earlier attempts with its key (`vipps_call_record`).
            models.Index(fields=["sales_unit", "idempotency_key"], name="vippscall_unit_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and self.status_code < 400


class UserProfile(models.Model):
    """Per-user preferences that follow the user across devices (the language they picked)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_profile")
    # Empty: follow the browser (Accept-Language).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.language or 'browser'})"
