from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.validators import no_control_characters

from .models import MARKET_CURRENCY, Market, SalesUnit
from .roles import Role
from .services import member_email_max_length

# Vipps' keys are tens of characters; the limit only keeps nonsense out of the encrypted column.
SECRET_MAX_LENGTH = 200


class SalesUnitForm(forms.ModelForm):
    """Secrets are write-only: the form never renders a stored secret, and blank on edit keeps it."""

    client_secret = forms.CharField(
        label=_("Client secret"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        required=False,
        max_length=SECRET_MAX_LENGTH,
        validators=[no_control_characters],
    )
    subscription_key = forms.CharField(
        label=_("Subscription key (Ocp-Apim-Subscription-Key)"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        required=False,
        max_length=SECRET_MAX_LENGTH,
        validators=[no_control_characters],
    )

    class Meta:
        model = SalesUnit
        fields = ["name", "msn", "market", "currency", "environment", "client_id", "client_secret", "subscription_key"]
        help_texts = {
            "msn": _("The Merchant Serial Number of the sales unit, from the business portal."),
            "client_id": _("From the business portal: For developers → API keys."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "msn", "client_id"):
            self.fields[name].validators.append(no_control_characters)
        editing = self.instance.pk is not None
        for name in ("client_secret", "subscription_key"):
            field = self.fields[name]
            if editing:
                masked = getattr(self.instance, f"{name}_masked")
                field.help_text = gettext("Saved (%(masked)s). Leave empty to keep it.") % {"masked": masked}
            else:
                field.required = True
        self.initial.pop("client_secret", None)
        self.initial.pop("subscription_key", None)

    def clean(self):
        data = super().clean()
        market, currency = data.get("market"), data.get("currency")
        if market and currency and MARKET_CURRENCY.get(market) != currency:
            raise ValidationError(
                {
                    "currency": gettext("A sales unit in %(market)s uses %(currency)s.")
                    % {"market": Market(market).label, "currency": MARKET_CURRENCY[market]}
                }
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
    email = forms.EmailField(label=_("E-mail"), max_length=member_email_max_length())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[("", "")] + list(settings.LANGUAGES), required=False)


class LoginForm(AuthenticationForm):
    """Django's log-in form, with the username's length enforced: Django only sets `maxlength` on the input, so a
    longer name reached authenticate() and django-axes, whose attempt log holds 255 characters (a 500 on
    PostgreSQL). No such username exists, so it is the ordinary "wrong username or password" answer."""

    def clean_username(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length or "\x00" in username:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login", params=self._params())
        return username

    def _params(self) -> dict:
        return {"username": self.username_field.verbose_name}
