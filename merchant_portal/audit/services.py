from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from .models import AuditEntry


def _actor_fields(actor: Any) -> dict:
    """An actor is a user, an API key (anything with `audit_label`), or None for the system itself."""
    if actor is None:
        return {"actor_type": AuditEntry.ActorType.SYSTEM, "actor_label": "system"}
    if isinstance(actor, AbstractBaseUser):
        return {"actor_type": AuditEntry.ActorType.USER, "actor_user": actor, "actor_label": actor.get_username()}
    return {"actor_type": AuditEntry.ActorType.API_KEY, "actor_label": str(actor.audit_label)[:150]}


def log_action(
    *,
    merchant,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Record an action. `data` must be JSON and must never carry a secret, token or full phone number."""
    target_fields = {}
    if target is not None:
        target_fields = {
            "target_type": target._meta.label_lower,
            "target_id": str(target.pk),
            "target_repr": str(target)[:200],
        }
    return AuditEntry.objects.create(
        merchant=merchant, action=action, data=data or {}, **_actor_fields(actor), **target_fields
    )
