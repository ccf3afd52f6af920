"""ePayment rules: create, the state machine, capture/refund/cancel with their aggregates and
error codes, the customer's approve/reject, expiry and idempotency (CONTRACTS §4)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .. import contract
from ..errors import SandboxError
from ..models import MINIMUM_AMOUNT, IdempotencyRecord, Merchant, Payment, PaymentEvent
from .base import EVENT_TYPE_BY_NAME, StateBase, _iso, _psp_reference, fingerprint, normalize_phone


@dataclass
class RateLimitError(SandboxError):
    """429: too many calls; the routes send ``retry_after`` (seconds) as ``Retry-After``."""

    retry_after: float = 0.0


# Schema failures on create that have their own Vipps error code (CONTRACTS §4.7), by field.
SCHEMA_ERROR_CODES = (
    ("customer.phoneNumber", "4070", "Invalid phone number"),
    ("amount", "4040", "Invalid amount"),
)


def _schema_error_code(problems: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The (code, title) for the first problem whose field has one, e.g. ``amount.value`` -> 4040."""
    for name, _reason in problems:
        for prefix, code, title in SCHEMA_ERROR_CODES:
            if name == prefix or name.startswith(prefix + "."):
                return code, title
    return None


class PaymentsMixin(StateBase):
    # -- rate limit ----------------------------------------------------------------------
    def check_rate_limit(self, msn: str, reference: str) -> None:
        """Count one create/capture/cancel/refund call; 429 past the limit (CONTRACTS §4.11).

        Counted per MSN + reference in a sliding window of ``config.epayment_rate_window``
        seconds on the sandbox clock; refused calls do not count.
        """
        limit = self.config.epayment_rate_limit
        if limit is None:
            return
        window = self.config.epayment_rate_window
        now = self.now()
        with self.lock:
            calls = [t for t in self.rate_windows.get((msn, reference), []) if t > now - window]
            if len(calls) >= limit:
                self.rate_windows[(msn, reference)] = calls
                raise RateLimitError(
                    429,
                    f"Rate limit exceeded: at most {limit} create, capture, cancel and refund calls "
                    f"per reference in {window:g} seconds",
                    title="Too Many Requests",
                    retry_after=calls[0] + window - now,
                )
            calls.append(now)
            self.rate_windows[(msn, reference)] = calls

    # -- payments ------------------------------------------------------------------------
    def _payment(self, msn: str, reference: str) -> Payment:
        payment = self.payments.get((msn, reference))
        if payment is None:
            raise SandboxError(
                404,
                f"Payment with reference {reference} not found for MSN {msn}",
                title="Reference not found",
                code="5090",
            )
        if payment.state == "CREATED" and payment.expires_at <= self.now():
            # Expire lazily too, so no caller sees a CREATED payment past its deadline.
            self._transition(payment, "EXPIRED", payment.amount, None)
        return payment

    def payment(self, msn: str, reference: str) -> Payment:
        """The payment (after applying any due expiry)."""
        self.tick()
        with self.lock:
            return self._payment(msn, reference)

    def _record(self, payment: Payment, name: str, amount: int, idempotency_key: str | None) -> PaymentEvent:
        event = PaymentEvent(
            reference=payment.reference,
            # Each event has its own pspReference; CREATED's is the payment's (CONTRACTS §4.5).
            psp_reference=payment.psp_reference if name == "CREATED" else _psp_reference(),
            name=name,
            amount=amount,
            currency=payment.currency,
            timestamp=_iso(self.now()),
            idempotency_key=idempotency_key,
        )
        payment.events.append(event)
        payload = {"msn": payment.msn, **event.wire()}
        self.emit(payment.msn, EVENT_TYPE_BY_NAME[name], payload, ordering_key=f"payment:{payment.reference}")
        return event

    def _transition(self, payment: Payment, state: str, amount: int, key: str | None) -> PaymentEvent:
        payment.state = state
        return self._record(payment, state, amount, key)

    def create_payment(
        self, merchant: Merchant, body: Any, idempotency_key: str | None, base_url: str
    ) -> dict[str, Any]:
        """POST /epayment/v1/payments; returns the CreatePaymentResponse."""
        if not isinstance(body, dict):
            raise SandboxError(400, "The request body must be a JSON object", fields=[("body", "invalid JSON")])
        reference = body.get("reference")
        # The spec's schema (patched to the live 8-64 reference rule, see contract.py).
        problems = contract.schema_errors("epayment", "CreatePaymentRequest", body)
        if problems:
            code, title = _schema_error_code(problems) or (None, "Bad Request")
            raise SandboxError(400, "One or more validation errors occurred.", title=title, code=code, fields=problems)

        amount = body["amount"]
        currency, value = amount["currency"], amount["value"]
        flow = body["userFlow"]
        method = body["paymentMethod"]["type"]
        customer = body.get("customer")
        if currency != merchant.currency:
            raise SandboxError(
                400,
                f"Currency {currency} does not match the sales unit's currency {merchant.currency}",
                title="Invalid currency for merchant",
                code="5040",
            )
        if value < MINIMUM_AMOUNT[currency]:
            raise SandboxError(
                400,
                f"The minimum amount is {MINIMUM_AMOUNT[currency]} in minor units",
                title="Amount too small",
                code="6010",
                fields=[("amount.value", "too small")],
            )
        if method == "CARD" and flow != "WEB_REDIRECT":
            raise SandboxError(
                400,
                "paymentMethod CARD requires userFlow WEB_REDIRECT",
                title="Payment cannot be created",
                code="5070",
            )
        if flow == "PUSH_MESSAGE" and not customer:
            raise SandboxError(
                400,
                "userFlow PUSH_MESSAGE requires a customer",
                title="Missing required parameter",
                code="4140",
                fields=[("customer", "required for PUSH_MESSAGE")],
            )
        if flow == "PUSH_MESSAGE" and not merchant.push_message_allowed:
            raise SandboxError(
                403,
                "The sales unit is not allowed to use PUSH_MESSAGE",
                title="PUSH_MESSAGE not allowed",
                code="5080",
            )
        if flow == "WEB_REDIRECT" and not body.get("returnUrl"):
            raise SandboxError(
                400,
                "userFlow WEB_REDIRECT requires a returnUrl",
                title="Missing required parameter",
                code="4140",
                fields=[("returnUrl", "required for WEB_REDIRECT")],
            )
        for url_field in ("returnUrl", "receiptUrl"):
            if body.get(url_field):
                _check_app_url(url_field, body[url_field])
        if body.get("qrFormat") and flow != "QR":
            raise SandboxError(
                400,
                "qrFormat can only be used with userFlow QR",
                title="Invalid request",
                fields=[("qrFormat", "only with userFlow QR")],
            )
        metadata = body.get("metadata")
        if metadata:
            for key, meta_value in metadata.items():
                if len(key) > 100:
                    raise SandboxError(400, "Metadata key too long", title="Metadata key length exceeded", code="4120")
                if len(meta_value) > 500:
                    raise SandboxError(
                        400, "Metadata value too long", title="Metadata value length exceeded", code="4130"
                    )
        now = self.now()
        expires_at = now + self.config.payment_timeout
        if body.get("expiresAt"):
            expires_at = self._check_expires_at(merchant, body, flow, now)

        with self.lock:
            target_phone = None
            if customer:
                if "phoneNumber" in customer:
                    target_phone = customer["phoneNumber"]
                elif "customerToken" in customer:
                    target_phone = self._customer_token(merchant.msn, customer["customerToken"]).phone
                elif "personalQr" in customer:
                    match = re.search(r"(\d{10,15})(?:\?|$)", customer["personalQr"])
                    if match is None:
                        raise SandboxError(
                            400,
                            "The personal QR could not be read",
                            title="Invalid PersonalQr",
                            code="4060",
                            fields=[("customer.personalQr", "not a personal QR")],
                        )
                    target_phone = match.group(1)
            if (merchant.msn, reference) in self.payments:
                raise SandboxError(
                    409,
                    f"A payment with reference {reference} already exists",
                    title="Reference exists",
                    code="4150",
                )
            payment = Payment(
                msn=merchant.msn,
                reference=reference,
                amount=value,
                currency=currency,
                user_flow=flow,
                payment_method=method,
                psp_reference=_psp_reference(),
                created_at=now,
                expires_at=expires_at,
                customer=customer,
                target_phone=target_phone,
                customer_interaction=body.get("customerInteraction", "CUSTOMER_NOT_PRESENT"),
                payment_description=body.get("paymentDescription"),
                return_url=body.get("returnUrl"),
                metadata=metadata,
                receipt=body.get("receipt"),
                profile_scope=(body.get("profile") or {}).get("scope"),
            )
            response: dict[str, Any] = {"reference": reference}
            if flow != "PUSH_MESSAGE":
                payment.redirect_token = secrets.token_urlsafe(24)
                landing = f"{base_url}/_sandbox/landing?token={payment.redirect_token}"
                payment.redirect_url = landing
                self.redirect_tokens[payment.redirect_token] = (merchant.msn, reference)
                if flow == "QR":
                    qr_format = body.get("qrFormat") or {}
                    fmt = qr_format.get("format", "IMAGE/SVG+XML")
                    if fmt == "TEXT/TARGETURL":
                        response["redirectUrl"] = landing
                    else:
                        image_id = secrets.token_urlsafe(16)
                        self.images[image_id] = landing
                        size = qr_format.get("size") or 1024
                        response["redirectUrl"] = (
                            f"{base_url}/_sandbox/qr-image/{image_id}.png?size={size}"
                            if fmt == "IMAGE/PNG"
                            else f"{base_url}/_sandbox/qr-image/{image_id}.svg"
                        )
                else:
                    response["redirectUrl"] = landing
            if target_phone:
                self.remember_phone(target_phone)
            self.payments[(merchant.msn, reference)] = payment
            self._record(payment, "CREATED", value, idempotency_key)
            return response

    def _check_expires_at(self, merchant: Merchant, body: dict[str, Any], flow: str, now: float) -> float:
        if flow not in ("PUSH_MESSAGE", "QR"):
            raise SandboxError(
                400,
                "expiresAt can only be used with userFlow PUSH_MESSAGE or QR",
                title="Payment cannot be created",
                code="5070",
            )
        if not merchant.long_living_payments_allowed:
            raise SandboxError(
                403,
                "The sales unit is not approved for long-living payments",
                title="Long-living payment not allowed",
                code="5050",
            )
        if not body.get("receipt"):
            raise SandboxError(
                400,
                "Long living payments require a receipt",
                code="6130",
                title="Long living payments require a receipt",
            )
        expires = datetime.fromisoformat(body["expiresAt"].replace("z", "Z").replace("Z", "+00:00")).timestamp()
        if expires < now + 600:
            raise SandboxError(
                400,
                "expiresAt must be at least 10 minutes ahead",
                title="Expiration date is too soon",
                code="6120",
            )
        if expires > now + 60 * 86400:
            raise SandboxError(
                400,
                "expiresAt must be at most 60 days ahead",
                title="Expiration date is too late",
                code="6110",
            )
        return expires

    def _modification_amount(self, payment: Payment, body: Any) -> int:
        problems = contract.schema_errors("epayment", "CaptureModificationRequest", body)
        if problems:
            raise SandboxError(400, "One or more validation errors occurred.", fields=problems)
        amount = body["modificationAmount"]
        if amount["currency"] != payment.currency:
            raise SandboxError(
                400,
                f"The currency must be the payment's currency {payment.currency}",
                title="Invalid amount",
                code="4040",
                fields=[("modificationAmount.currency", "does not match the payment")],
            )
        if amount["value"] < 1:
            raise SandboxError(
                400,
                "The amount must be positive",
                title="Invalid amount",
                code="4040",
                fields=[("modificationAmount.value", "must be at least 1")],
            )
        return int(amount["value"])

    def modification_response(self, payment: Payment, event: PaymentEvent | None = None) -> dict[str, Any]:
        return {
            "amount": payment.money(payment.amount),
            "state": payment.state,
            "aggregate": payment.aggregate(),
            "pspReference": event.psp_reference if event else payment.psp_reference,
            "reference": payment.reference,
        }

    def capture(self, merchant: Merchant, reference: str, body: Any, key: str | None) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(merchant.msn, reference)
            value = self._modification_amount(payment, body)
            if payment.state == "CREATED":
                raise SandboxError(
                    400,
                    "The amount you tried to capture is not reserved. The user must accept the "
                    "payment before capture can be done.",
                    title="Cannot capture before reservation",
                    code="6080",
                )
            if payment.state != "AUTHORIZED":
                raise SandboxError(
                    400,
                    f"A {payment.state} payment cannot be captured",
                    title="Payment cannot be captured",
                    code="6200",
                )
            if payment.cancelled > 0:
                raise SandboxError(
                    400,
                    "The payment has been cancelled",
                    title="Cannot capture a cancelled payment",
                    code="6070",
                )
            if payment.captured + value > payment.authorized:
                raise SandboxError(
                    400,
                    f"Capturing {value} would exceed the authorized amount "
                    f"({payment.authorized - payment.captured} left to capture)",
                    title="Capture amount too high",
                    code="6090",
                )
            if not merchant.partial_capture_allowed and value != payment.authorized:
                raise SandboxError(
                    400,
                    "This sales unit must capture the full amount",
                    title="Must capture full amount",
                    code="6140",
                )
            payment.captured += value
            event = self._record(payment, "CAPTURED", value, key)
            return self.modification_response(payment, event)

    def refund(self, merchant: Merchant, reference: str, body: Any, key: str | None) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(merchant.msn, reference)
            value = self._modification_amount(payment, body)
            if payment.state != "AUTHORIZED":
                raise SandboxError(
                    400,
                    f"A {payment.state} payment has no reservation to refund",
                    title="Attempted refund before reservation",
                    code="6020",
                )
            if payment.refunded + value > payment.captured:
                raise SandboxError(
                    400,
                    f"Refunding {value} would exceed the captured amount "
                    f"({payment.captured - payment.refunded} refundable)",
                    title="Not enough refundable",
                    code="6150",
                )
            payment.refunded += value
            event = self._record(payment, "REFUNDED", value, key)
            return self.modification_response(payment, event)

    def cancel(self, merchant: Merchant, reference: str, body: Any, key: str | None) -> dict[str, Any]:
        if body is not None and not isinstance(body, dict):
            raise SandboxError(400, "The request body must be a JSON object", fields=[("body", "invalid JSON")])
        transaction_only = bool((body or {}).get("cancelTransactionOnly", False))
        with self.lock:
            payment = self._payment(merchant.msn, reference)
            if payment.state == "CREATED":
                # The merchant cancels before the user acted: TERMINATED.
                event = self._transition(payment, "TERMINATED", payment.amount, key)
                return self.modification_response(payment, event)
            if payment.state != "AUTHORIZED":
                raise SandboxError(
                    400,
                    f"A {payment.state} payment cannot be cancelled",
                    title="Payment cannot be cancelled",
                    code="6190",
                )
            if transaction_only:
                raise SandboxError(
                    400,
                    "The payment is authorized; cancelTransactionOnly refuses to cancel it",
                    title="Cannot cancel authorized payment",
                    code="6060",
                )
            if payment.captured >= payment.authorized:
                raise SandboxError(
                    400,
                    "A fully captured payment cannot be cancelled; refund it instead",
                    title="Cannot cancel a captured payment",
                    code="6040",
                )
            if payment.cancelled > 0:
                raise SandboxError(
                    400, "The payment is already cancelled", title="Payment cannot be cancelled", code="6190"
                )
            remaining = payment.authorized - payment.captured
            payment.cancelled = remaining
            event = self._record(payment, "CANCELLED", remaining, key)
            return self.modification_response(payment, event)

    def approve(self, msn: str, reference: str, phone: str | None = None) -> Payment:
        """The customer approves in the app: CREATED -> AUTHORIZED."""
        self.tick()
        with self.lock:
            payment = self._payment(msn, reference)
            if payment.state == "AUTHORIZED":
                raise SandboxError(
                    400, "The payment is already authorized", title="Payment is already reserved", code="6230"
                )
            if payment.state != "CREATED":
                raise SandboxError(
                    400, f"A {payment.state} payment cannot be approved", title="Approve failed", code="10010"
                )
            if phone is not None:
                phone = normalize_phone(phone)
                if payment.target_phone and phone != payment.target_phone:
                    raise SandboxError(
                        400,
                        "The payment request was sent to another phone number",
                        title="Approve failed",
                        code="10010",
                    )
            payer = phone or payment.target_phone
            if payer is None:
                raise SandboxError(
                    400,
                    "Say which customer approves (customer.phoneNumber)",
                    title="Identification required",
                    code="10030",
                )
            payment.approved_by = payer
            payment.authorized = payment.amount
            if payment.profile_scope:
                payment.profile_sub = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vipps-sandbox:{payer}"))
            self.remember_phone(payer)
            self._transition(payment, "AUTHORIZED", payment.amount, None)
            return payment

    def reject(self, msn: str, reference: str, phone: str | None = None) -> Payment:
        """The customer cancels in the app: CREATED -> ABORTED."""
        self.tick()
        with self.lock:
            payment = self._payment(msn, reference)
            if payment.state != "CREATED":
                raise SandboxError(400, f"A {payment.state} payment cannot be rejected", title="Reject failed")
            if phone is not None and payment.target_phone and normalize_phone(phone) != payment.target_phone:
                raise SandboxError(400, "The payment request was sent to another phone number")
            self._transition(payment, "ABORTED", payment.amount, None)
            return payment

    def expire(self, msn: str, reference: str) -> Payment:
        """Let a CREATED payment time out now: -> EXPIRED."""
        with self.lock:
            payment = self._payment(msn, reference)
            if payment.state != "CREATED":
                raise SandboxError(400, f"A {payment.state} payment cannot expire")
            self._transition(payment, "EXPIRED", payment.amount, None)
            return payment

    def force_approve(self, merchant: Merchant, reference: str, body: Any) -> None:
        """POST /epayment/v1/test/payments/{reference}/approve with ``{customer}`` or ``{token}``."""
        body = body if isinstance(body, dict) else {}
        problems = contract.schema_errors("epayment", "ForceApprove", body)
        if problems:
            raise SandboxError(400, "One or more validation errors occurred.", fields=problems)
        with self.lock:
            payment = self._payment(merchant.msn, reference)
            phone = None
            customer = body.get("customer") or {}
            if "token" in body and body["token"] != payment.redirect_token:
                raise SandboxError(
                    400, "The token does not belong to this payment", title="Approve failed", code="10010"
                )
            if "phoneNumber" in customer:
                phone = customer["phoneNumber"]
            elif "customerToken" in customer:
                phone = self._customer_token(merchant.msn, customer["customerToken"]).phone
            elif "personalQr" in customer:
                match = re.search(r"(\d{10,15})(?:\?|$)", customer["personalQr"])
                phone = match.group(1) if match else None
            if phone is None and "token" in body and payment.target_phone is None:
                phone = "4712345678"  # the sandbox's default test user
            self.approve(merchant.msn, reference, phone)

    def pending_for_phone(self, phone: str) -> list[Payment]:
        """CREATED payment requests addressed to a phone (by number, customerToken or personal QR)."""
        phone = normalize_phone(phone)
        self.tick()
        with self.lock:
            return sorted(
                (p for p in self.payments.values() if p.state == "CREATED" and p.target_phone == phone),
                key=lambda p: p.created_at,
            )

    def payment_by_redirect_token(self, token: str) -> Payment | None:
        with self.lock:
            key = self.redirect_tokens.get(token)
            return self.payments.get(key) if key else None

    # -- idempotency ---------------------------------------------------------------------
    def idempotent(
        self,
        msn: str,
        key: str,
        operation: str,
        reference: str,
        body: bytes,
        run: Callable[[], tuple[int, bytes, str]],
    ) -> tuple[int, bytes, str]:
        """Run ``run`` once per (MSN, Idempotency-Key) (CONTRACTS §4.2).

        Same key + same operation + same body: the first response again. Same key with another
        body: 409 (4010 for capture, 4150 for refund, 4020 otherwise). Same key for another
        operation or payment: 409 4020. 5xx answers are not remembered, so a retry can succeed.
        """
        with self.lock:
            record = self.idempotency.get((msn, key))
            if record is not None:
                if record.operation != operation or record.reference != reference:
                    raise SandboxError(
                        409,
                        "The Idempotency-Key was already used for another operation",
                        title="Idempotency error",
                        code="4020",
                    )
                if record.fingerprint != fingerprint(body):
                    code = {"capturePayment": "4010", "refundPayment": "4150"}.get(operation, "4020")
                    title = {
                        "4010": "Capture idempotency conflict",
                        "4150": "Refund idempotency conflict",
                    }.get(code, "Idempotency error")
                    raise SandboxError(
                        409,
                        "The Idempotency-Key was already used with another request body",
                        title=title,
                        code=code,
                    )
                return record.status, record.body, record.content_type
            status, data, content_type = run()
            if status < 500:
                self.idempotency[(msn, key)] = IdempotencyRecord(
                    operation, reference, fingerprint(body), status, data, content_type
                )
            return status, data, content_type


def _check_app_url(name: str, url: str) -> None:
    """returnUrl/receiptUrl: https or a custom app scheme. Plain http is accepted only for
    loopback hosts, so a portal on a developer machine can be returned to."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise SandboxError(
            400,
            f"{name} is not a valid URL",
            title="Invalid URL",
            code="4090",
            fields=[(name, "must be an absolute URL")],
        )
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise SandboxError(
            400,
            f"{name} must use https (or a custom app scheme)",
            title="Invalid URL",
            code="4090",
            fields=[(name, "must use https")],
        )
