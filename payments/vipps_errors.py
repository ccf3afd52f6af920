"""Plain explanations of the ePayment error codes staff are likely to meet (CONTRACTS.md §4.7; the code arrives in
the problem's `extraDetails` as ErrorCode)."""

EXPLANATIONS = {
    "4040": "The amount is not valid for Vipps.",
    "4070": "The phone number is not valid: country code first, 10 to 15 digits.",
    "4150": "A payment with this reference already exists at Vipps.",
    "5040": "The currency does not match the sales unit's currency.",
    "5050": "The sales unit is not allowed to create long-living payment requests.",
    "5080": "The sales unit is not allowed to send push messages (PUSH_MESSAGE). Ask Vipps MobilePay to enable "
    "payment requests sent directly to the app for this sales unit.",
    "5090": "Vipps does not know this payment reference.",
    "6010": "The amount is below the smallest amount Vipps accepts.",
    "6040": "The payment is fully captured and can no longer be cancelled: refund it instead.",
    "6060": "The payment is already authorized.",
    "6070": "The payment has been cancelled and can no longer be captured.",
    "6080": "The customer has not approved the payment yet, so there is nothing to capture.",
    "6090": "The amount is more than what is left to capture.",
    "6100": "The capture period has expired.",
    "6140": "This sales unit must capture the full amount at once.",
    "6150": "The amount is more than what can still be refunded.",
    "6160": "Vipps is still processing the order: try again in a moment.",
    "6190": "The payment cannot be cancelled in its current state.",
    "6200": "The payment cannot be captured in its current state.",
    "7010": "Vipps could not find this customer, or the customer does not meet the requirements.",
}

STATUS_EXPLANATIONS = {
    401: "Vipps did not accept the sales unit's keys.",
    403: "The sales unit's keys do not give access to the ePayment API.",
    409: "Vipps refused a repeated request (idempotency conflict).",
    423: "Vipps has locked the payment for a moment; the portal tries again.",
    429: "Too many changes to this payment in a minute; the portal waits and tries again.",
}


def explain(code: str, status: int | None = None) -> str:
    if code in EXPLANATIONS:
        return EXPLANATIONS[code]
    if status is not None and status in STATUS_EXPLANATIONS:
        return STATUS_EXPLANATIONS[status]
    if status is not None and status >= 500:
        return "Vipps had a temporary problem; the portal tries again."
    return ""
