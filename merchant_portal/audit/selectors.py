from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from .describe import Facts, describe
from .models import AuditEntry

PAYMENT = "payments.payment"
LOCATION = "qrcodes.location"
MEMBERSHIP = "tenancy.membership"


# What staff filter the log by, as the action codes' prefixes.
AUDIT_TOPICS = {
    "payments": ("payment.", "payment_rule.", "checkin."),
    "qr_codes": ("location.", "qr_code.", "qr_codes.", "qr_sheet."),
    "team": ("merchant.", "sales_unit.", "member.", "demo."),
    "api": ("api_key.",),
    "webhooks": ("webhooks.", "webhook_event.", "webhook_events.", "webhook_delivery."),
}


def audit_entries_for_merchant(*, merchant, topic: str = "") -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.for_merchant(merchant).select_related("actor_user")
    if topic in AUDIT_TOPICS:
        wanted = Q()
        for prefix in AUDIT_TOPICS[topic]:
            wanted |= Q(action__startswith=prefix)
        qs = qs.filter(wanted)
    return qs


def _ids(entries, target_type: str) -> set[int]:
    # A target id is a stringified primary key; anything else (or beyond a bigint) cannot name a row.
    return {
        int(e.target_id)
        for e in entries
        if e.target_type == target_type and e.target_id.isdigit() and len(e.target_id) < 19
    }


def audit_entries_described(*, entries) -> list[AuditEntry]:
    """The entries (one page of them), each with `sentence`: what happened, in the active language, naming what
    it happened to. Two queries whatever the number of entries: payments and locations give the currency (and a
    payment its reference)."""
    from payments.models import Payment
    from qrcodes.models import Location

    entries = list(entries)
    payments = {
        str(pk): (reference, currency)
        for pk, reference, currency in Payment.objects.filter(pk__in=_ids(entries, PAYMENT)).values_list(
            "pk", "reference", "currency"
        )
    }
    location_currency = {
        str(pk): currency
        for pk, currency in Location.objects.filter(pk__in=_ids(entries, LOCATION)).values_list(
            "pk", "sales_unit__currency"
        )
    }
    for entry in entries:
        if entry.target_type == PAYMENT:
            reference, currency = payments.get(entry.target_id, (entry.target_repr.removeprefix("Payment "), ""))
            what = describe(action=entry.action, data=entry.data, facts=Facts(subject=reference, currency=currency))
            entry.sentence = gettext("Payment %(reference)s: %(what)s") % {"reference": reference, "what": what}
            continue
        subject = entry.target_repr
        if entry.target_type == MEMBERSHIP:
            subject = subject.partition(" @ ")[0]  # "<username> @ <merchant> (<role>)"
        facts = Facts(subject=subject, currency=location_currency.get(entry.target_id, ""))
        entry.sentence = describe(action=entry.action, data=entry.data, facts=facts)
    return entries
