import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from merchant_portal.audit.services import log_action
from qrcodes.models import Location, QrCode
from vipps.masking import mask_phone
from webhooks_app.dispatch import Discard, Park

from .models import CheckIn

CHECKIN_TTL = timedelta(minutes=15)  # the customerToken's validity (CONTRACTS.md §5.2)
POS_POLLS = 5  # notifications after which an empty PoS is taken as "nobody checked in"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checkin_create(
    *,
    location: Location,
    customer_token: str,
    initiated_at: datetime,
    source: str,
    qr_code: QrCode | None = None,
    merchant_qr_id: str = "",
    pos_id: str = "",
    event=None,
) -> CheckIn:
    """Create the check-in, or return the one that already holds this customerToken."""
    digest = _digest(customer_token)
    existing = CheckIn.objects.filter(sales_unit_id=location.sales_unit_id, token_digest=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return CheckIn.objects.create(
                sales_unit_id=location.sales_unit_id,
                location=location,
                qr_code=qr_code,
                source=source,
                merchant_qr_id=merchant_qr_id,
                pos_id=pos_id,
                customer_token=customer_token,
                token_digest=digest,
                initiated_at=initiated_at,
                expires_at=initiated_at + CHECKIN_TTL,
                event=event,
            )
    except IntegrityError:
        return CheckIn.objects.get(sales_unit_id=location.sales_unit_id, token_digest=digest)


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def checkin_apply_qr_event(event, prepared=None) -> None:
    """Handler of `user.checked-in.v1`: a customer scanned one of our merchant callback QR codes."""
    payload = json.loads(event.body)
    merchant_qr_id = str(payload["merchantQrId"])
    initiated_at = _parse_time(payload["initiatedAt"])
    qr = (
        QrCode.objects.select_related("location")
        .filter(sales_unit_id=event.sales_unit_id, merchant_qr_id=merchant_qr_id)
        .first()
    )
    if qr is None:
        if initiated_at + CHECKIN_TTL <= timezone.now():
            raise Discard(f"QR code {merchant_qr_id} is not known for this sales unit, and the check-in has expired.")
        # Maybe saved at Vipps before here, or being re-created: try again until the token expires.
        raise Park(f"QR code {merchant_qr_id} is not known (yet) for this sales unit.", retry_in=20)
    checkin_create(
        location=qr.location,
        qr_code=qr,
        merchant_qr_id=merchant_qr_id,
        customer_token=payload["customerToken"],
        initiated_at=initiated_at,
        source=CheckIn.Source.QR,
        event=event,
    )


def _pos_location(event) -> Location:
    pos_id = event.payload["PosId"].lower()
    location = Location.objects.filter(sales_unit_id=event.sales_unit_id, mobilepay_pos_id__iexact=pos_id).first()
    if location is None:
        raise Discard(f"No location is mapped to PoS {pos_id} any more.")
    return location


def pos_checkin_fetch(event):
    """Prepare step of a MobilePay PoS notification: ask MobilePay who is checked in, never faster than the
    pollDelayInMs it last asked for on that PoS."""
    from .pos import pos_client_for

    location = _pos_location(event)
    pos_id = location.mobilepay_pos_id.lower()
    key = f"mobilepay-pos-next-poll:{pos_id}"
    wait = (cache.get(key) or 0) - time.time()
    if wait > 0:
        raise Park("Waiting for the poll delay MobilePay asked for.", retry_in=wait)
    result = pos_client_for(location.sales_unit).get_checkin(pos_id)
    cache.set(key, time.time() + result.poll_delay_ms / 1000, timeout=300)
    if not (result.is_user_checked_in and result.customer_token):
        if event.attempts + 1 >= POS_POLLS:
            raise Discard("Nobody is checked in at this PoS.")
        raise Park("Nobody checked in yet; polling again.", retry_in=max(result.poll_delay_ms / 1000, 0.5))
    return location, result.customer_token


def pos_checkin_apply(event, prepared) -> None:
    location, customer_token = prepared
    checkin_create(
        location=location,
        pos_id=location.mobilepay_pos_id.lower(),
        customer_token=customer_token,
        initiated_at=timezone.now(),
        source=CheckIn.Source.MOBILEPAY_POS,
        event=event,
    )


def checkins_expire() -> int:
    return CheckIn.objects.filter(status=CheckIn.Status.ACTIVE, expires_at__lte=timezone.now()).update(
        status=CheckIn.Status.EXPIRED
    )


def checkin_exchange_phone(*, checkin: CheckIn, actor) -> str:
    """Ask Vipps for the customer's phone number (POST /qr/v1/exchange/customer); only the masked form is kept."""
    from merchant_portal.tenancy.vipps import vipps_client_for

    if checkin.expires_at <= timezone.now():
        raise ValidationError("The check-in has expired: its token can no longer be exchanged.")
    result = vipps_client_for(checkin.sales_unit).exchange_customer_token(checkin.customer_token)
    checkin.phone_masked = mask_phone(result.msisdn)
    checkin.save(update_fields=["phone_masked"])
    log_action(merchant=checkin.sales_unit.merchant, actor=actor, action="checkin.phone_exchanged", target=checkin)
    return checkin.phone_masked
