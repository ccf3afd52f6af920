from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from merchant_portal.audit.services import log_action
from webhooks_app.tasks import webhooks_sync_sales_unit

from .models import Membership, Merchant, SalesUnit, UserProfile
from .roles import Role

User = get_user_model()

SECRET_FIELDS = ("client_secret", "subscription_key")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "merchant"
    slug, n = base, 1
    while Merchant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def merchant_create(*, name: str, owner, slug: str | None = None) -> Merchant:
    merchant = Merchant.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    log_action(merchant=merchant, actor=owner, action="merchant.created", target=merchant)
    return merchant


@transaction.atomic
def sales_unit_create(*, merchant: Merchant, actor, **fields) -> SalesUnit:
    unit = SalesUnit(merchant=merchant, **fields)
    unit.full_clean()
    unit.save()
    log_action(
        merchant=merchant,
        actor=actor,
        action="sales_unit.created",
        target=unit,
        data={"msn": unit.msn, "environment": unit.environment},
    )
    webhooks_sync_sales_unit.delay_on_commit(unit.pk)  # register the webhooks the portal needs at Vipps
    return unit


@transaction.atomic
def sales_unit_update(*, sales_unit: SalesUnit, actor, **fields) -> SalesUnit:
    """Update fields; an empty secret keeps the stored one (the form never shows secrets back)."""
    changed = []
    for name, value in fields.items():
        if name in SECRET_FIELDS and not value:
            continue
        if getattr(sales_unit, name) != value:
            setattr(sales_unit, name, value)
            changed.append(name)
    if changed:
        sales_unit.full_clean()
        sales_unit.save()
        # Names only: the audit log must never hold a secret.
        log_action(
            merchant=sales_unit.merchant,
            actor=actor,
            action="sales_unit.updated",
            target=sales_unit,
            data={"changed": sorted(changed)},
        )
    return sales_unit


@transaction.atomic
def sales_unit_delete(*, sales_unit: SalesUnit, actor) -> None:
    log_action(
        merchant=sales_unit.merchant,
        actor=actor,
        action="sales_unit.deleted",
        target=sales_unit,
        data={"msn": sales_unit.msn},
    )
    sales_unit.delete()


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


def sales_unit_test_connection(*, sales_unit: SalesUnit, actor) -> ConnectionResult:
    """Ask Vipps for a fresh access token with the stored keys: proves MSN, keys and environment agree."""
    from vipps import VippsAPIError, VippsError

    from .vipps import WrongEnvironment, vipps_client_for

    try:
        token = vipps_client_for(sales_unit).fetch_access_token()
        result = ConnectionResult(
            True,
            _("Connected: Vipps issued an access token valid for %(minutes)s min.")
            % {"minutes": token.expires_in // 60},
        )
    except WrongEnvironment as exc:
        result = ConnectionResult(False, str(exc))
    except VippsAPIError as exc:
        hint = " " + _("Check the client id, client secret and subscription key.") if exc.status in (401, 403) else ""
        result = ConnectionResult(
            False,
            _("Vipps refused the keys (HTTP %(status)s: %(detail)s).")
            % {"status": exc.status, "detail": exc.title or exc.detail}
            + hint,
        )
    except VippsError as exc:
        result = ConnectionResult(
            False, _("Could not reach Vipps at %(url)s: %(error)s") % {"url": settings.VIPPS_BASE_URL, "error": exc}
        )
    log_action(
        merchant=sales_unit.merchant,
        actor=actor,
        action="sales_unit.connection_tested",
        target=sales_unit,
        data={"ok": result.ok},
    )
    return result


def set_password_path(user) -> str:
    """A one-time link for an invited user to choose a password (Django's password-reset token)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})


def member_email_max_length() -> int:
    """A new member's e-mail is also the username of the account: it must fit both columns."""
    return min(User._meta.get_field("username").max_length, User._meta.get_field("email").max_length)


@transaction.atomic
def member_add(*, merchant: Merchant, actor, email: str, role: str) -> tuple[Membership, str | None]:
    """Add a user to the merchant by e-mail, creating the account if needed.

    Returns the membership and, for a new account, the path of its set-password link to pass on.
    """
    email = User.objects.normalize_email(email).lower()
    # Lower-casing can lengthen a string ("İ" becomes two characters), so the form's limit is checked again here.
    longest = member_email_max_length()
    if len(email) > longest:
        raise ValidationError({"email": _("Use an e-mail address of at most %(max)s characters.") % {"max": longest}})
    user = User.objects.filter(email__iexact=email).first() or User.objects.filter(username__iexact=email).first()
    link = None
    if user is None:
        user = User.objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        link = set_password_path(user)
    if Membership.objects.filter(user=user, merchant=merchant).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    membership = Membership.objects.create(user=user, merchant=merchant, role=role)
    log_action(merchant=merchant, actor=actor, action="member.added", target=membership, data={"role": role})
    return membership, link


def _ensure_owner_remains(membership: Membership, *, new_role: str | None) -> None:
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = Membership.objects.for_merchant(membership.merchant).filter(role=Role.OWNER).select_for_update()
    if owners.exclude(pk=membership.pk).count() == 0:
        raise ValidationError(_("A merchant needs at least one owner: make someone else owner first."))


@transaction.atomic
def member_change_role(*, membership: Membership, actor, role: str) -> Membership:
    _ensure_owner_remains(membership, new_role=role)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    log_action(
        merchant=membership.merchant,
        actor=actor,
        action="member.role_changed",
        target=membership,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor) -> None:
    _ensure_owner_remains(membership, new_role=None)
    log_action(
        merchant=membership.merchant,
        actor=actor,
        action="member.removed",
        target=membership,
        data={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()


def vipps_call_log_prune(*, now=None) -> int:
    """Delete outbound call log entries older than VIPPS_CALL_LOG_RETENTION_DAYS; returns how many."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import VippsCall

    cutoff = (now or timezone.now()) - timedelta(days=settings.VIPPS_CALL_LOG_RETENTION_DAYS)
    deleted, _ = VippsCall.objects.filter(started_at__lt=cutoff).delete()
    return deleted


def user_language_set(*, user, language: str) -> None:
    """Remember the user's language ("" = follow the browser) so it follows them to every device."""
    UserProfile.objects.update_or_create(user=user, defaults={"language": language})
