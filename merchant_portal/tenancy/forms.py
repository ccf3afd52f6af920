from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import MARKET_CURRENCY, Market, SalesUnit
from .roles import Role


class SalesUnitForm(forms.ModelForm):
    """Secrets are write-only: the form never renders a stored secret, and blank on edit keeps it."""

    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}), required=False
    )
    subscription_key = forms.CharField(
        label="Subscription key (Ocp-Apim-Subscription-Key)",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        required=False,
    )

    class Meta:
        model = SalesUnit
        fields = ["name", "msn", "market", "currency", "environment", "client_id", "client_secret", "subscription_key"]
        help_texts = {
            "msn": "The Merchant Serial Number of the sales unit, from the business portal.",
            "client_id": "From the business portal: For developers → API keys.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        for name in ("client_secret", "subscription_key"):
            field = self.fields[name]
            if editing:
                masked = getattr(self.instance, f"{name}_masked")
                field.help_text = f"Saved ({masked}). Leave empty to keep it."
            else:
                field.required = True
        self.initial.pop("client_secret", None)
        self.initial.pop("subscription_key", None)

    def clean(self):
        data = super().clean()
        market, currency = data.get("market"), data.get("currency")
        if market and currency and MARKET_CURRENCY.get(market) != currency:
            raise ValidationError(
                {"currency": f"A sales unit in {Market(market).label} uses {MARKET_CURRENCY[market]}."}
            )
        return data

    def _post_clean(self):
        # Blank secrets on edit mean "keep": put the stored value back before model validation.
        if self.instance.pk:
            for name in ("client_secret", "subscription_key"):
                if not self.cleaned_data.get(name):
                    self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[("", "")] + list(settings.LANGUAGES), required=False)
