"""An audit entry as a sentence a merchant reads, in the active language.

The log keeps codes and raw facts (`action`, `data`), which stay stable and searchable; what staff read is
built here, at display time, so it follows the reader's language and an old entry reads like a new one. Every
action code that `log_action()` is called with has a describer (a test scans the code base for them); an unknown
code still reads as a sentence. `data` is whatever was stored, possibly by an older version: every describer
accepts missing or odd values.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy, ngettext

from merchant_portal.core.i18n import format_money


@dataclass(frozen=True)
class Facts:
    """What the sentence needs beyond the entry's data, looked up by the caller (one query per page)."""

    subject: str = ""  # the target as staff name it: a location's name, a QR code's id, a payment's reference
    currency: str = ""  # of the payment (or the location's sales unit) the entry is about


Describer = Callable[[dict, Facts], str]
DESCRIBERS: dict[str, Describer] = {}


def describes(*actions: str):
    def register(function: Describer) -> Describer:
        for action in actions:
            DESCRIBERS[action] = function
        return function

    return register


def describe(*, action: str, data, facts: Facts = Facts()) -> str:
    data = data if isinstance(data, dict) else {}
    describer = DESCRIBERS.get(action)
    if describer is None:
        return gettext("Recorded an action the portal cannot describe (%(code)s).") % {"code": action}
    return describer(data, facts)


# Reading stored values ------------------------------------------------------------------------------------------


def _int(data: dict, key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(data: dict, key: str) -> int:
    return max(_int(data, key) or 0, 0)


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _money(minor: int | None, currency: str) -> str:
    if minor is None:
        return gettext("an amount")
    # A code that is not a currency (an odd stored value) must not break the page: the amount alone then.
    currency = currency if isinstance(currency, str) and len(currency) == 3 and currency.isalpha() else ""
    return format_money(minor, currency.upper())


def _choice(choices, value) -> str:
    """The translated label of a stored choice value, or the value itself."""
    return str(dict(choices.choices).get(value, value)) if isinstance(value, str) else ""


def _name(facts: Facts) -> str:
    return facts.subject or "—"


# Payments -------------------------------------------------------------------------------------------------------

# The label stored for a payment asked of a check-in (payments.services); any other value is a masked phone number.
CHECKIN_CUSTOMER = "check-in"


@describes("payment.requested")
def _payment_requested(data: dict, facts: Facts) -> str:
    amount = _money(_int(data, "amount"), _text(data, "currency") or facts.currency)
    customer = _text(data, "customer")
    if customer == CHECKIN_CUSTOMER or not customer:
        return gettext("Requested %(amount)s from the customer's check-in") % {"amount": amount}
    return gettext("Requested %(amount)s from %(phone)s") % {"amount": amount, "phone": customer}


@describes("payment.capture_requested")
def _capture_requested(data: dict, facts: Facts) -> str:
    return gettext("Asked to capture %(amount)s") % {"amount": _money(_int(data, "amount"), facts.currency)}


@describes("payment.refund_requested")
def _refund_requested(data: dict, facts: Facts) -> str:
    return gettext("Asked to refund %(amount)s") % {"amount": _money(_int(data, "amount"), facts.currency)}


@describes("payment.cancel_requested")
def _cancel_requested(data: dict, facts: Facts) -> str:
    return gettext("Asked to cancel the payment")


def _anomaly_reason(data: dict) -> str:
    from payments.models import Payment

    reason = _text(data, "reason")
    return str(Payment.Anomaly(reason).label) if reason in Payment.Anomaly.values else ""


def _with_reason(sentence: str, reason: str) -> str:
    return gettext("%(sentence)s: %(reason)s") % {"sentence": sentence, "reason": reason} if reason else sentence


@describes("payment.anomaly")
def _anomaly(data: dict, facts: Facts) -> str:
    return _with_reason(gettext("Vipps' answer was not applied"), _anomaly_reason(data))


@describes("payment.quarantined")
def _quarantined(data: dict, facts: Facts) -> str:
    return _with_reason(gettext("The portal stopped checking this payment with Vipps"), _anomaly_reason(data))


@describes("payment.anomaly_cleared")
def _anomaly_cleared(data: dict, facts: Facts) -> str:
    return gettext("Vipps' answer fits again and was applied")


SET_ASIDE = {
    "payment.capture_quarantined": gettext_lazy("The capture was set aside after repeated failures"),
    "payment.refund_quarantined": gettext_lazy("The refund was set aside after repeated failures"),
    "payment.cancel_quarantined": gettext_lazy("The cancel was set aside after repeated failures"),
}
for _action, _sentence in SET_ASIDE.items():
    DESCRIBERS[_action] = lambda data, facts, sentence=_sentence: str(sentence)


@describes("payment.retried")
def _retried(data: dict, facts: Facts) -> str:
    return gettext("Tried again after being set aside")


@describes("payment_rule.updated")
def _rule_updated(data: dict, facts: Facts) -> str:
    amount = _int(data, "amount")
    if data.get("request_on_checkin") is True and amount is not None:
        sentence = gettext("Changed the payment rules of %(location)s: every check-in is asked for %(amount)s.") % {
            "location": _name(facts),
            "amount": _money(amount, facts.currency),
        }
    else:
        sentence = gettext("Changed the payment rules of %(location)s: no automatic payment request.") % {
            "location": _name(facts)
        }
    if data.get("auto_capture") is True:
        sentence += " " + gettext("Authorized payments are captured automatically.")
    return sentence


@describes("checkin.phone_exchanged")
def _phone_exchanged(data: dict, facts: Facts) -> str:
    return gettext("Looked up the phone number of a customer who checked in")


# Locations, QR codes and sheets ----------------------------------------------------------------------------------


@describes("location.created")
def _location_created(data: dict, facts: Facts) -> str:
    return gettext("Created the location %(name)s") % {"name": _name(facts)}


@describes("location.updated")
def _location_updated(data: dict, facts: Facts) -> str:
    return gettext("Changed the location %(name)s") % {"name": _name(facts)}


@describes("location.deleted")
def _location_deleted(data: dict, facts: Facts) -> str:
    return gettext("Deleted the location %(name)s") % {"name": _name(facts)}


def _qr(data: dict, facts: Facts) -> str:
    return _text(data, "merchant_qr_id") or _name(facts)


@describes("qr_code.created")
def _qr_created(data: dict, facts: Facts) -> str:
    return gettext("Created the QR code %(code)s") % {"code": _qr(data, facts)}


@describes("qr_code.updated")
def _qr_updated(data: dict, facts: Facts) -> str:
    return gettext("Changed the QR code %(code)s") % {"code": _qr(data, facts)}


@describes("qr_code.delete_requested")
def _qr_delete_requested(data: dict, facts: Facts) -> str:
    return gettext("Asked to delete the QR code %(code)s") % {"code": _qr(data, facts)}


@describes("qr_code.deleted")
def _qr_deleted(data: dict, facts: Facts) -> str:
    return gettext("Deleted the QR code %(code)s at Vipps and here") % {"code": _qr(data, facts)}


@describes("qr_code.sync_retried")
def _qr_sync_retried(data: dict, facts: Facts) -> str:
    return gettext("Sent the QR code %(code)s to Vipps again") % {"code": _qr(data, facts)}


@describes("qr_code.sync_failed")
def _qr_sync_failed(data: dict, facts: Facts) -> str:
    # The error is Vipps' own text (or the portal's technical reason): shown as it was received.
    sentence = gettext("Vipps did not accept the QR code %(code)s (retried automatically)") % {"code": _qr(data, facts)}
    return _with_reason(sentence, _text(data, "error"))


@describes("qr_code.sync_quarantined")
def _qr_sync_quarantined(data: dict, facts: Facts) -> str:
    attempts = _count(data, "attempts")
    sentence = ngettext(
        "Stopped sending the QR code %(code)s to Vipps after %(count)s attempt",
        "Stopped sending the QR code %(code)s to Vipps after %(count)s attempts",
        attempts,
    ) % {"code": _qr(data, facts), "count": attempts}
    return _with_reason(sentence, _text(data, "error"))


@describes("qr_codes.reconcile_requested")
def _reconcile_requested(data: dict, facts: Facts) -> str:
    return gettext("Asked to compare the QR codes of %(unit)s with Vipps") % {"unit": _name(facts)}


@describes("qr_codes.reconciled")
def _reconciled(data: dict, facts: Facts) -> str:
    return gettext(
        "Compared the QR codes of %(unit)s with Vipps: %(imported)s imported, %(missing)s missing at Vipps, "
        "%(differing)s different"
    ) % {
        "unit": _name(facts),
        "imported": _count(data, "imported"),
        "missing": _count(data, "missing"),
        "differing": _count(data, "differing"),
    }


@describes("qr_sheet.requested")
def _sheet_requested(data: dict, facts: Facts) -> str:
    codes = _count(data, "codes")
    return ngettext("Made a sheet of %(count)s QR code", "Made a sheet of %(count)s QR codes", codes) % {"count": codes}


# Merchant, sales units and members -------------------------------------------------------------------------------


@describes("merchant.created")
def _merchant_created(data: dict, facts: Facts) -> str:
    return gettext("Created the merchant %(name)s") % {"name": _name(facts)}


@describes("sales_unit.created")
def _unit_created(data: dict, facts: Facts) -> str:
    return gettext("Added the sales unit %(name)s") % {"name": _name(facts)}


@describes("sales_unit.updated")
def _unit_updated(data: dict, facts: Facts) -> str:
    return gettext("Changed the sales unit %(name)s") % {"name": _name(facts)}


@describes("sales_unit.deleted")
def _unit_deleted(data: dict, facts: Facts) -> str:
    return gettext("Deleted the sales unit %(name)s") % {"name": _name(facts)}


@describes("sales_unit.connection_tested")
def _connection_tested(data: dict, facts: Facts) -> str:
    if data.get("ok") is True:
        return gettext("Tested the connection to Vipps for %(name)s: it works") % {"name": _name(facts)}
    return gettext("Tested the connection to Vipps for %(name)s: it failed") % {"name": _name(facts)}


def _role(value) -> str:
    from merchant_portal.tenancy.roles import Role

    return _choice(Role, value).lower() or "—"  # a role named mid-sentence: "as cashier", "som kasserer"


@describes("member.added")
def _member_added(data: dict, facts: Facts) -> str:
    return gettext("Added %(user)s as %(role)s") % {"user": _name(facts), "role": _role(data.get("role"))}


@describes("member.role_changed")
def _member_role_changed(data: dict, facts: Facts) -> str:
    return gettext("Changed the role of %(user)s from %(old)s to %(new)s") % {
        "user": _name(facts),
        "old": _role(data.get("from")),
        "new": _role(data.get("to")),
    }


@describes("member.removed")
def _member_removed(data: dict, facts: Facts) -> str:
    return gettext("Removed %(user)s (%(role)s)") % {
        "user": _text(data, "user") or _name(facts),
        "role": _role(data.get("role")),
    }


# API keys and their webhooks -------------------------------------------------------------------------------------


@describes("api_key.created")
def _key_created(data: dict, facts: Facts) -> str:
    from merchant_portal.api.models import ApiKey

    access = _choice(ApiKey.Access, data.get("access"))
    if not access:
        return gettext("Created the API key %(name)s") % {"name": _name(facts)}
    return gettext("Created the API key %(name)s (%(access)s)") % {"name": _name(facts), "access": access}


@describes("api_key.revoked")
def _key_revoked(data: dict, facts: Facts) -> str:
    return gettext("Revoked the API key %(name)s") % {"name": _name(facts)}


@describes("api_key.webhook_created")
def _hook_created(data: dict, facts: Facts) -> str:
    return gettext("Added a webhook to %(url)s for the API key %(name)s") % {
        "url": _text(data, "url") or "—",
        "name": _name(facts),
    }


@describes("api_key.webhook_updated")
def _hook_updated(data: dict, facts: Facts) -> str:
    return gettext("Changed the webhook of the API key %(name)s (now %(url)s)") % {
        "url": _text(data, "url") or "—",
        "name": _name(facts),
    }


@describes("api_key.webhook_secret_rotated")
def _hook_secret_rotated(data: dict, facts: Facts) -> str:
    return gettext("Made a new signing secret for the webhook of the API key %(name)s") % {"name": _name(facts)}


@describes("api_key.webhook_disabled")
def _hook_disabled(data: dict, facts: Facts) -> str:
    sentence = gettext("Turned off the webhook of the API key %(name)s") % {"name": _name(facts)}
    return _with_reason(sentence, _text(data, "reason"))


@describes("api_key.webhook_enabled")
def _hook_enabled(data: dict, facts: Facts) -> str:
    return gettext("Turned on the webhook of the API key %(name)s") % {"name": _name(facts)}


@describes("api_key.webhook_deleted")
def _hook_deleted(data: dict, facts: Facts) -> str:
    return gettext("Deleted the webhook of the API key %(name)s") % {"name": _name(facts)}


@describes("api_key.webhook_test_sent")
def _hook_test_sent(data: dict, facts: Facts) -> str:
    return gettext("Sent a test event to the webhook of the API key %(name)s") % {"name": _name(facts)}


@describes("api_key.webhook_resent")
def _hook_resent(data: dict, facts: Facts) -> str:
    return gettext("Sent the event %(event)s again to the webhook of the API key %(name)s") % {
        "event": _text(data, "event_type") or "—",
        "name": _name(facts),
    }


# Vipps webhooks ----------------------------------------------------------------------------------------------


@describes("webhooks.synced")
def _webhooks_synced(data: dict, facts: Facts) -> str:
    if data.get("ok") is False:
        return gettext("Checked the webhook registrations of %(unit)s at Vipps: it failed") % {"unit": _name(facts)}
    changes = data.get("changes")
    if isinstance(changes, list) and changes:
        return gettext("Repaired the webhook registrations of %(unit)s at Vipps") % {"unit": _name(facts)}
    return gettext("Checked the webhook registrations of %(unit)s at Vipps: up to date") % {"unit": _name(facts)}


@describes("webhook_event.replayed")
def _event_replayed(data: dict, facts: Facts) -> str:
    return gettext("Replayed the event %(event)s") % {"event": _text(data, "event_type") or "—"}


@describes("webhook_delivery.replayed")
def _delivery_replayed(data: dict, facts: Facts) -> str:
    return gettext("Filed a set-aside webhook delivery again")


@describes("webhook_events.replayed")
def _events_replayed(data: dict, facts: Facts) -> str:
    count = _count(data, "count")
    return ngettext("Replayed %(count)s event", "Replayed %(count)s events", count) % {"count": count}


# Demo ----------------------------------------------------------------------------------------------------------


@describes("demo.history_seeded")
def _demo_seeded(data: dict, facts: Facts) -> str:
    return gettext("Added demo history: %(payments)s payments and %(checkins)s check-ins") % {
        "payments": _count(data, "payments"),
        "checkins": _count(data, "check_ins"),
    }
