import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Payment, PaymentRule

MAX_MAJOR = Decimal("650000.00")  # Vipps' largest amount, 65,000,000 minor units


def to_minor(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _major_field(label, required: bool = True, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.01"),
        max_value=MAX_MAJOR,
        decimal_places=2,
        # A tablet at the till then opens its number pad with a decimal separator.
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
        **kwargs,
    )


def _token_field() -> forms.CharField:
    # One per rendered form: a double submit of the same form is the same request.
    return forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)


class PaymentRequestForm(forms.Form):
    sales_unit = forms.ModelChoiceField(queryset=None, label=_("Sales unit"))
    phone_number = forms.CharField(
        label=_("Customer's phone number"),
        required=False,
        max_length=16,
        help_text=_("Country code first, no +: 4791234567."),
    )
    amount = _major_field(_("Amount"), help_text=_("In kroner (or euro), e.g. 49.90."))
    description = forms.CharField(
        label=_("Description"), min_length=3, max_length=100, help_text=_("Shown in the app.")
    )
    order_lines = forms.CharField(
        label=_("Receipt lines (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One line each: name; quantity; unit price; VAT %. Example: Coffee; 2; 35.00; 25. "
            "The lines must add up to the amount."
        ),
    )
    request_token = _token_field()

    def __init__(self, *args, merchant, checkin=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.checkin = checkin
        self.fields["sales_unit"].queryset = merchant.sales_units.order_by("name")
        if checkin is not None:
            del self.fields["sales_unit"], self.fields["phone_number"]
        else:
            self.fields["phone_number"].required = True

    def clean_amount(self) -> int:
        return to_minor(self.cleaned_data["amount"])

    def clean_order_lines(self) -> list[dict]:
        lines = []
        for number, raw in enumerate(self.cleaned_data["order_lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = [p.strip() for p in raw.split(";")]
            try:
                name, quantity, price, tax = parts
                lines.append(
                    {
                        "name": name[:100] or gettext("Line %(number)s") % {"number": number},
                        # A decimal comma is what nb, da and fi write; accept it as well as the point.
                        "quantity": str(Decimal(quantity.replace(",", "."))),
                        "unit_price": to_minor(Decimal(price.replace(",", "."))),
                        "tax_percentage": int(tax),
                    }
                )
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    gettext("Line %(number)s should read: name; quantity; unit price; VAT %%.") % {"number": number}
                ) from None
            if not 0 <= lines[-1]["tax_percentage"] <= 100 or Decimal(lines[-1]["quantity"]) <= 0:
                raise forms.ValidationError(
                    gettext("Line %(number)s: quantity above 0 and VAT 0-100 %%.") % {"number": number}
                )
        return lines


class OperationForm(forms.Form):
    amount = _major_field(_("Amount"), required=False)
    request_token = _token_field()

    def clean_amount(self) -> int | None:
        value = self.cleaned_data["amount"]
        return to_minor(value) if value is not None else None


class PaymentFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=[("", _("Any state")), *Payment.State.choices], required=False)
    location = forms.ModelChoiceField(label=_("Location"), queryset=None, required=False, empty_label=_("Any location"))
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    amount_min = forms.DecimalField(label=_("Amount from"), required=False, min_value=0, decimal_places=2)
    amount_max = forms.DecimalField(label=_("Amount to"), required=False, min_value=0, decimal_places=2)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=50)

    def __init__(self, *args, merchant, **kwargs):
        from qrcodes.models import Location

        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.for_merchant(merchant).order_by("name")


class PaymentRuleForm(forms.ModelForm):
    amount_major = _major_field(_("Amount"), required=False, help_text=_("The fixed amount asked of every check-in."))

    class Meta:
        model = PaymentRule
        fields = ["request_on_checkin", "description", "auto_capture"]
        labels = {
            "request_on_checkin": _("Ask every check-in to pay the fixed amount (vending machine)"),
            "auto_capture": _("Capture automatically when the customer has approved"),
        }

    field_order = ["request_on_checkin", "amount_major", "description", "auto_capture"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.amount:
            self.initial["amount_major"] = Decimal(self.instance.amount) / 100

    def clean(self):
        data = super().clean()
        amount = data.get("amount_major")
        data["amount"] = to_minor(amount) if amount is not None else None
        if data.get("request_on_checkin") and not data["amount"]:
            self.add_error("amount_major", gettext("A fixed amount is needed to ask every check-in."))
        if data.get("request_on_checkin") and len(data.get("description") or "") < 3:
            self.add_error("description", gettext("Say what is paid for (3 to 100 characters)."))
        return data
