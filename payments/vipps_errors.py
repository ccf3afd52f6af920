"""Plain explanations of the ePayment error codes staff are likely to meet (CONTRACTS.md §4.7; the code arrives in
the problem's `extraDetails` as ErrorCode).

A worker stores the explanation with the payment in English (`stored_explanation`); pages show it in the reader's
language (`localized`), so a message written once reads right in every language.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

EXPLANATIONS = {
    "4040": _("The amount is not valid for Vipps."),
    "4070": _("The phone number is not valid: country code first, 10 to 15 digits."),
    "4150": _("A payment with this reference already exists at Vipps."),
    "5040": _("The currency does not match the sales unit's currency."),
    "5050": _("The sales unit is not allowed to create long-living payment requests."),
    "5080": _(
        "The sales unit is not allowed to send push messages (PUSH_MESSAGE). Ask Vipps MobilePay to enable "
        "payment requests sent directly to the app for this sales unit."
    ),
    "5090": _("Vipps does not know this payment reference."),
    "6010": _("The amount is below the smallest amount Vipps accepts."),
    "6040": _("The payment is fully captured and can no longer be cancelled: refund it instead."),
    "6060": _("The payment is already authorized."),
    "6070": _("The payment has been cancelled and can no longer be captured."),
    "6080": _("The customer has not approved the payment yet, so there is nothing to capture."),
    "6090": _("The amount is more than what is left to capture."),
    "6100": _("The capture period has expired."),
    "6140": _("This sales unit must capture the full amount at once."),
    "6150": _("The amount is more than what can still be refunded."),
    "6160": _("Vipps is still processing the order: try again in a moment."),
    "6190": _("The payment cannot be cancelled in its current state."),
    "6200": _("The payment cannot be captured in its current state."),
    "7010": _("Vipps could not find this customer, or the customer does not meet the requirements."),
}

STATUS_EXPLANATIONS = {
    401: _("Vipps did not accept the sales unit's keys."),
    403: _("The sales unit's keys do not give access to the ePayment API."),
    409: _("Vipps refused a repeated request (idempotency conflict)."),
    423: _("Vipps has locked the payment for a moment; the portal tries again."),
    429: _("Too many changes to this payment in a minute; the portal waits and tries again."),
}


TEMPORARY = _("Vipps had a temporary problem; the portal tries again.")
RATE_LIMITED = _("Waiting for Vipps' limit of 5 changes a minute on one payment.")


def english(text) -> str:
    with translation.override("en"):
        return str(text)


def explain(code: str, status: int | None = None) -> str:
    """The plain explanation in the active language ("" when there is none)."""
    if code in EXPLANATIONS:
        return str(EXPLANATIONS[code])
    if status is not None and status in STATUS_EXPLANATIONS:
        return str(STATUS_EXPLANATIONS[status])
    if status is not None and status >= 500:
        return str(TEMPORARY)
    return ""


def stored_explanation(code: str, status: int | None = None) -> str:
    """The explanation as stored in the database: in English, whoever's request or which worker wrote it."""
    with translation.override("en"):
        return explain(code, status)


def localized(message: str) -> str:
    """A stored message (an English explanation, maybe followed by Vipps' own words) in the active language."""
    if not message:
        return message
    for text in (*EXPLANATIONS.values(), *STATUS_EXPLANATIONS.values(), TEMPORARY, RATE_LIMITED):
        original = english(text)
        if message.startswith(original):
            return str(text) + message[len(original) :]
    return message
