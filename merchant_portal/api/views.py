"""Owners' pages for API keys: list (with last use), create (the key is shown once), revoke; and each key's
outbound webhook: set up, rotate the secret (shown once), enable/disable, send a test, the delivery log, resend."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin

from . import selectors, services
from .forms import ApiKeyForm, WebhookEndpointForm
from .models import ApiKey, WebhookDelivery, WebhookEventType

# Session flag "show this endpoint's secret on the next view of its page": the secret itself is never put in
# the session, and the flag is removed when the page shows it.
SECRET_ONCE = "api_webhook_secret_once"
DELIVERIES_PER_PAGE = 25


class ApiKeyListView(MerchantMixin, ListView):
    permission = Perm.MANAGE_CREDENTIALS
    template_name = "api/api_key_list.html"
    context_object_name = "api_keys"

    def get_queryset(self):
        return selectors.api_keys_for_merchant(merchant=self.request.merchant)


class ApiKeyCreateView(MerchantMixin, FormView):
    permission = Perm.MANAGE_CREDENTIALS
    form_class = ApiKeyForm
    template_name = "api/api_key_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "merchant": self.request.merchant}

    def form_valid(self, form):
        try:
            api_key, token = services.api_key_create(
                merchant=self.request.merchant, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        # Rendered in this response, not redirected: the plaintext key is never stored, not even in the session.
        response = render(self.request, "api/api_key_created.html", {"api_key": api_key, "token": token})
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(ScopedObjectMixin, View):
    model = ApiKey
    permission = Perm.MANAGE_CREDENTIALS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        api_key = self.get_object()
        services.api_key_revoke(api_key=api_key, actor=request.user)
        messages.success(request, f"API key “{api_key.name}” revoked: it stops working at once.")
        return redirect("api_key_list", merchant_slug=request.merchant.slug)


# Outbound webhooks ---------------------------------------------------------------------------------------------


class ApiKeyWebhookMixin(ScopedObjectMixin):
    model = ApiKey
    permission = Perm.MANAGE_CREDENTIALS

    def get_endpoint(self):
        if not hasattr(self, "_endpoint"):
            self._endpoint = selectors.webhook_endpoint_for_key(api_key=self.get_object())
        return self._endpoint

    def back(self):
        return redirect("api_key_webhook", merchant_slug=self.request.merchant.slug, pk=self.kwargs["pk"])


class ApiKeyWebhookView(ApiKeyWebhookMixin, TemplateView):
    template_name = "api/webhook_detail.html"

    def get(self, request, *args, **kwargs):
        api_key, endpoint = self.get_object(), self.get_endpoint()
        show_secret = endpoint is not None and request.session.get(SECRET_ONCE) == endpoint.pk
        if show_secret:
            del request.session[SECRET_ONCE]
        deliveries = selectors.webhook_deliveries_for_endpoint(endpoint=endpoint) if endpoint else []
        page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
        response = self.render_to_response(
            self.get_context_data(
                api_key=api_key, endpoint=endpoint, show_secret=show_secret, page_obj=page, deliveries=page.object_list
            )
        )
        if show_secret:
            response["Cache-Control"] = "no-store"
        return response


class ApiKeyWebhookEditView(ApiKeyWebhookMixin, FormView):
    form_class = WebhookEndpointForm
    template_name = "api/webhook_form.html"

    def get_initial(self):
        endpoint = self.get_endpoint()
        if endpoint is None:
            return {"event_types": WebhookEventType.values}
        return {"url": endpoint.url, "event_types": endpoint.event_types}

    def get_context_data(self, **kwargs):
        return super().get_context_data(api_key=self.get_object(), endpoint=self.get_endpoint(), **kwargs)

    def form_valid(self, form):
        try:
            endpoint, created = services.webhook_endpoint_save(
                api_key=self.get_object(), actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if created:
            self.request.session[SECRET_ONCE] = endpoint.pk
            messages.success(self.request, _("Webhook set up. Copy its signing secret now: it is shown only once."))
        else:
            messages.success(self.request, _("Webhook saved."))
        return self.back()


class WebhookActionView(ApiKeyWebhookMixin, View):
    """A POST-only action on a key's webhook; redirects back to the webhook's page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        if endpoint is None:
            messages.error(request, _("This API key has no webhook."))
            return self.back()
        try:
            self.act(endpoint)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return self.back()

    def act(self, endpoint) -> None:
        raise NotImplementedError


class ApiKeyWebhookRotateView(WebhookActionView):
    def act(self, endpoint):
        services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=self.request.user)
        self.request.session[SECRET_ONCE] = endpoint.pk
        messages.success(
            self.request,
            _("New signing secret made. Copy it now; the old one also signs for 24 hours, so switch within that time."),
        )


class ApiKeyWebhookEnableView(WebhookActionView):
    def act(self, endpoint):
        services.webhook_endpoint_enable(endpoint=endpoint, actor=self.request.user)
        messages.success(self.request, _("Webhook enabled: new events are sent again."))


class ApiKeyWebhookDisableView(WebhookActionView):
    def act(self, endpoint):
        user = self.request.user.get_username()
        services.webhook_endpoint_disable(endpoint=endpoint, actor=self.request.user, reason=f"Disabled by {user}.")
        messages.success(self.request, _("Webhook disabled: no events are sent, and waiting deliveries are cancelled."))


class ApiKeyWebhookTestView(WebhookActionView):
    def act(self, endpoint):
        delivery = services.webhook_test_send(endpoint=endpoint, actor=self.request.user)
        messages.success(
            self.request, _("Test event %(id)s queued; its outcome appears below.") % {"id": delivery.message_id}
        )


class ApiKeyWebhookDeleteView(WebhookActionView):
    def act(self, endpoint):
        services.webhook_endpoint_delete(endpoint=endpoint, actor=self.request.user)
        messages.success(self.request, _("Webhook removed."))


class WebhookDeliveryView(ScopedObjectMixin, DetailView):
    model = WebhookDelivery
    permission = Perm.MANAGE_CREDENTIALS
    template_name = "api/webhook_delivery.html"
    context_object_name = "delivery"

    def get_queryset(self):
        return super().get_queryset().select_related("endpoint__api_key")

    def get_context_data(self, **kwargs):
        try:
            body = json.dumps(json.loads(self.object.body), indent=2, ensure_ascii=False)
        except ValueError:
            body = self.object.body
        return super().get_context_data(
            body=body,
            attempts=selectors.webhook_attempts_for_delivery(delivery=self.object),
            api_key=self.object.endpoint.api_key,
            **kwargs,
        )


class WebhookDeliveryResendView(ScopedObjectMixin, View):
    model = WebhookDelivery
    permission = Perm.MANAGE_CREDENTIALS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        delivery = self.get_object(self.get_queryset().select_related("endpoint__api_key__merchant"))
        try:
            services.webhook_delivery_resend(delivery=delivery, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Delivery %(id)s is being sent again.") % {"id": delivery.message_id})
        return redirect("api_key_webhook", merchant_slug=request.merchant.slug, pk=delivery.endpoint.api_key_id)
