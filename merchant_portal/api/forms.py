from django import forms
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.validators import no_control_characters
from merchant_portal.tenancy.models import SalesUnit
from qrcodes.models import Location

from .models import ApiKey, WebhookEndpoint, WebhookEventType


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiKey._meta.get_field("name").max_length,
        validators=[no_control_characters],
        help_text=_("Who uses it, e.g. “Till vendor AS, shop 3”."),
    )
    access = forms.ChoiceField(
        choices=ApiKey.Access.choices,
        initial=ApiKey.Access.READ_ONLY,
        widget=forms.RadioSelect,
        label=_("Access"),
        help_text=_("Read-write keys can change locations and QR codes and request payments."),
    )
    sales_units = forms.ModelMultipleChoiceField(
        queryset=SalesUnit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Sales units"),
        help_text=_("Leave all unticked for every sales unit."),
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Locations"),
        help_text=_("Leave all unticked for every location."),
    )

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sales_units"].queryset = SalesUnit.objects.for_merchant(merchant).order_by("name")
        self.fields["locations"].queryset = (
            Location.objects.for_merchant(merchant).select_related("sales_unit").order_by("name", "sales_unit__name")
        )


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=WebhookEndpoint._meta.get_field("url").max_length,
        assume_scheme="https",
        help_text=_("Where the portal POSTs events, e.g. https://pos.example.com/hooks/vipps-portal."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only events of the key's sales units and locations are sent."),
    )
