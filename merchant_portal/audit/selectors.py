from django.db.models import QuerySet

from .models import AuditEntry


def audit_entries_for_merchant(*, merchant, action_prefix: str = "") -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.for_merchant(merchant).select_related("actor_user")
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    return qs
