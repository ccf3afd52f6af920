from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Check-ins and payments"

    def ready(self) -> None:
        from merchant_portal.core.health import register_quarantine_source
        from webhooks_app.dispatch import Handler, register_handler
        from webhooks_app.events import CHECKED_IN, EPAYMENT_EVENTS, MOBILEPAY_POS_NOTIFICATION

        from . import selectors, services

        register_quarantine_source("payment_operations", selectors.payment_operations_quarantined_count)
        register_quarantine_source("payment_checks", selectors.payments_quarantined_count)

        register_handler(CHECKED_IN, Handler(apply=services.checkin_apply_qr_event))
        register_handler(
            MOBILEPAY_POS_NOTIFICATION, Handler(prepare=services.pos_checkin_fetch, apply=services.pos_checkin_apply)
        )
        # ePayment events are hints: prepare GETs the payment from Vipps, apply writes what Vipps said.
        for event_type in EPAYMENT_EVENTS.values():
            register_handler(
                event_type, Handler(prepare=services.payment_event_fetch, apply=services.payment_event_apply)
            )
