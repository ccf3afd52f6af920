from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchant_portal.tenancy.models import MerchantScopedQuerySet


class AuditEntry(models.Model):
    """Who did what, to what, for which merchant. Written only through `log_action`."""

    class ActorType(models.TextChoices):
        USER = "user", _("User")
        API_KEY = "api_key", _("API key")
        SYSTEM = "system", _("System")

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="audit_entries", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    merchant_lookup = "merchant"
    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="audit_merchant_time")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
