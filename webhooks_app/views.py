import json
from datetime import date, datetime
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from merchant_portal.core.validators import ascii_id
from merchant_portal.tenancy.models import SalesUnit
from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin
from merchant_portal.tenancy.selectors import sales_units_for_merchant
from vipps import VippsError
from vipps.masking import mask_body, mask_headers

from . import events as ev
from . import selectors, services
from .models import WebhookDelivery, WebhookEvent

NEEDED_TYPES = {t for group in ev.REGISTRATION_GROUPS for t in group}
# A local time from the replay form; years far out overflow the conversion to UTC (SQLite) and mean nothing here.
REPLAY_SINCE_MIN, REPLAY_SINCE_MAX = date(2000, 1, 1), date(2999, 12, 31)

# Public endpoints ---------------------------------------------------------------------------------------------


def _answer(receipt: services.Receipt) -> JsonResponse:
    body = {"outcome": receipt.outcome, "reason": receipt.reason}
    if receipt.status < 400:
        return JsonResponse(body, status=receipt.status)
    # RFC 9457, with the same two members as a 2xx answer so a sender's log reads the same either way.
    problem = {"type": "about:blank", "title": HTTPStatus(receipt.status).phrase, "status": receipt.status}
    return JsonResponse(
        problem | {"detail": receipt.reason} | body, status=receipt.status, content_type="application/problem+json"
    )


def _body(request) -> bytes:
    # Read one byte past the limit, never the whole of an oversized body.
    return request.read(settings.WEBHOOK_MAX_BODY_BYTES + 1)


# CSRF-exempt because the sender is Vipps, authenticated by the HMAC signature instead.
@csrf_exempt
@require_POST
def vipps_webhook(request):
    receipt = services.webhook_delivery_receive(
        body=_body(request), headers=request.headers, remote_addr=request.META.get("REMOTE_ADDR")
    )
    return _answer(receipt)


@csrf_exempt
@require_POST
def mobilepay_pos_notification(request):
    receipt = services.pos_notification_receive(
        body=_body(request), headers=request.headers, remote_addr=request.META.get("REMOTE_ADDR")
    )
    return _answer(receipt)


# Merchant pages -----------------------------------------------------------------------------------------------


class WebhookListView(MerchantMixin, TemplateView):
    template_name = "webhooks_app/webhook_list.html"

    def get_context_data(self, **kwargs):
        units = []
        for unit in sales_units_for_merchant(merchant=self.request.merchant):
            last = selectors.last_event_per_type(sales_unit=unit)
            units.append(
                {
                    "unit": unit,
                    "sync": selectors.webhook_sync_for_sales_unit(sales_unit=unit),
                    "registrations": selectors.subscriptions_for_sales_unit(sales_unit=unit).count(),
                    "last": max(last.values(), default=None),
                }
            )
        return super().get_context_data(units=units, url=services.webhook_url(), **kwargs)


class WebhookDetailView(ScopedObjectMixin, DetailView):
    """What Vipps has registered for this MSN (asked live), which are ours, and what a repair would change."""

    model = SalesUnit
    template_name = "webhooks_app/webhook_detail.html"
    context_object_name = "sales_unit"

    def get_context_data(self, **kwargs):
        from merchant_portal.tenancy.vipps import WrongEnvironment, vipps_client_for

        unit = self.object
        url = services.webhook_url()
        ours = {s.vipps_id: s for s in selectors.subscriptions_for_sales_unit(sales_unit=unit)}
        remote, plan, error = [], None, None
        try:
            remote = vipps_client_for(unit).list_webhooks()
            plan = services.webhooks_plan(remote=remote, ours=set(ours), url=url)
        except (VippsError, WrongEnvironment) as exc:
            error = gettext("Could not ask Vipps for the registrations: %(error)s") % {"error": exc}
        rows = []
        for hook in remote:
            if hook.id in plan.keep:
                mark = "ours"
            elif hook.id in plan.delete:
                mark = (
                    "ours, stale or duplicate: a repair deletes it" if hook.id in ours else "at our URL, secret unknown"
                )
            else:
                mark = "foreign"
            rows.append({"hook": hook, "mark": mark, "ours": ours.get(hook.id)})
        last = selectors.last_event_per_type(sales_unit=unit)
        needs_repair = plan is not None and bool(plan.delete or plan.forget or plan.register)
        return super().get_context_data(
            url=url,
            rows=rows,
            plan=plan,
            needs_repair=needs_repair,
            vipps_error=error,
            sync=selectors.webhook_sync_for_sales_unit(sales_unit=unit),
            last_events=[(t, last.get(t)) for t in selectors.event_types() if t in last or t in NEEDED_TYPES],
            quiet=selectors.quiet_warning(sales_unit=unit, last=last),
            **kwargs,
        )


class WebhookSyncView(ScopedObjectMixin, View):
    model = SalesUnit
    permission = Perm.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        unit = self.get_object()
        report = services.webhooks_sync(sales_unit=unit, actor=request.user)
        (messages.success if report.ok else messages.error)(request, report.message)
        return redirect("webhook_detail", merchant_slug=request.merchant.slug, pk=unit.pk)


class WebhookEventListView(MerchantMixin, ListView):
    template_name = "webhooks_app/webhook_event_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        get = self.request.GET
        # Filters typed into the URL: a value that is not one of the choices is no filter, never a query.
        event_type = get.get("type", "")
        status = get.get("status", "")
        return selectors.events_for_merchant(
            merchant=self.request.merchant,
            event_type=event_type if event_type in selectors.event_types() else "",
            status=status if status in WebhookEvent.Status.values else "",
            sales_unit_id=ascii_id(get.get("sales_unit", "")) or "",
        )

    def get_context_data(self, **kwargs):
        merchant = self.request.merchant
        return super().get_context_data(
            types=selectors.event_types(),
            statuses=WebhookEvent.Status.choices,
            sales_units=sales_units_for_merchant(merchant=merchant),
            rejected=selectors.rejected_deliveries_for_merchant(merchant=merchant)[:20],
            quarantined=selectors.quarantined_deliveries_for_merchant(merchant=merchant)[:50],
            query=self.request.GET.copy().urlencode() if "page" not in self.request.GET else "",
            **kwargs,
        )


class WebhookEventDetailView(ScopedObjectMixin, DetailView):
    model = WebhookEvent
    template_name = "webhooks_app/webhook_event_detail.html"
    context_object_name = "event"

    def get_context_data(self, **kwargs):
        deliveries = [
            {"delivery": d, "headers": mask_headers(d.headers), "body": mask_body(d.body)}
            for d in self.object.deliveries.order_by("received_at", "pk")
        ]
        return super().get_context_data(
            payload=json.dumps(self.object.payload, indent=2, ensure_ascii=False), deliveries=deliveries, **kwargs
        )


class WebhookEventReplayView(ScopedObjectMixin, View):
    model = WebhookEvent
    permission = Perm.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        event = self.get_object(self.get_queryset().select_related("sales_unit__merchant"))
        services.webhook_event_replay(event=event, actor=request.user)
        messages.success(request, gettext("The event is queued again; it is processed within a few seconds."))
        return redirect("webhook_event_detail", merchant_slug=request.merchant.slug, pk=event.pk)


class WebhookDeliveryReplayView(ScopedObjectMixin, View):
    """File a quarantined delivery again, once whatever kept it from being read has been fixed."""

    model = WebhookDelivery
    permission = Perm.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        delivery = self.get_object(
            self.get_queryset()
            .filter(outcome=WebhookDelivery.Outcome.QUARANTINED)
            .select_related("sales_unit__merchant")
        )
        services.webhook_delivery_replay(delivery=delivery, actor=request.user)
        messages.success(request, gettext("The delivery is filed again; it is processed within a few seconds."))
        return redirect("webhook_event_list", merchant_slug=request.merchant.slug)


class WebhookEventReplayFailedView(MerchantMixin, View):
    permission = Perm.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            since = datetime.fromisoformat(request.POST.get("since", ""))
            if since.tzinfo is not None or not REPLAY_SINCE_MIN <= since.date() <= REPLAY_SINCE_MAX:
                raise ValueError(since)
            since = timezone.make_aware(since)
        except (ValueError, OverflowError):
            messages.error(request, gettext("Give the time from which to replay failed and quarantined events."))
        else:
            count = services.webhook_events_replay(merchant=request.merchant, since=since, actor=request.user)
            messages.success(
                request,
                ngettext(
                    "%(count)s failed or quarantined item queued again.",
                    "%(count)s failed or quarantined items queued again.",
                    count,
                )
                % {"count": count},
            )
        return redirect("webhook_event_list", merchant_slug=request.merchant.slug)
