from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    # The values are the keys of selectors.AUDIT_TOPICS.
    topic = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Everything")),
            ("payments", _("Payments and check-ins")),
            ("qr_codes", _("Locations and QR codes")),
            ("team", _("Sales units and members")),
            ("api", _("API keys")),
            ("webhooks", _("Webhooks")),
        ],
    )
