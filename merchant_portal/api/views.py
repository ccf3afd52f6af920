"""Owners' pages for API keys: list (with last use), create (the key is shown once), revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import FormView, ListView

from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin

from . import selectors, services
from .forms import ApiKeyForm
from .models import ApiKey


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
