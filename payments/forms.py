import re
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchant_portal.core.validators import control_character, no_control_characters

from .models import Payment, PaymentRule
from .status import MerchantStatus

MAX_MAJOR = Decimal("650000.00")  # Vipps' largest amount, 65,000,000 minor units
# Plain decimals only: Decimal() also reads "NaN", "sNaN", "Infinity", "1e30" and non-ASCII digits, none of
# which anyone means as an amount. A decimal comma is what nb, da and fi write; it is read as the point.
PLAIN_DECIMAL = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,8})?")
# Order Management's UnitInfo.quantity (order-management-api-2.3.24.yaml): `^\d+([\.]\d{1,8})?$`, at most 10.
QUANTITY = re.compile(r"[0-9]{1,6}(?:[.,][0-9]{1,3})?")
LINE_PRICE = re.compile(r"[0-9]{1,6}(?:[.,][0-9]{1,2})?")
TAX_PERCENTAGE = re.compile(r"[0-9]{1,3}")
LINE_NAME_MAX = 100
ORDER_LINES_MAX = 100
# A date filter outside these years is a typo, and would overflow the datetime arithmetic of the filter.
FILTER_DATE_MIN, FILTER_DATE_MAX = date(2000, 1, 1), date(2999, 12, 31)
phone_validator = RegexValidator(
    r"^[0-9]{10,15}\Z",
    _("The phone number needs the country code first and 10 to 15 digits, e.g. 4791234567."),
)


def to_minor(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def parse_plain_decimal(text: str) -> Decimal | None:
    text = text.strip()
    return Decimal(text.replace(",", ".")) if PLAIN_DECIMAL.fullmatch(text) else None


class PlainDecimalField(forms.DecimalField):
    """A DecimalField that reads only digits with a decimal point or comma: no exponent, NaN or Infinity.

    A text box, not <input type=number>: Chromium with a Norwegian, Danish or Finnish locale read a typed
    "120,50" in a number box as 12050, a hundred times the amount. Here the comma and the point both mean the
    decimal separator, and `inputmode` still opens the number pad with a separator on a tablet at the till."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    default_error_messages = {"invalid": _("Write the amount with digits and at most two decimals, e.g. 49.90.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_plain_decimal(str(value))
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


def _major_field(label, required: bool = True, **kwargs) -> forms.DecimalField:
    return PlainDecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.01"),
        max_value=MAX_MAJOR,
        decimal_places=2,
        **kwargs,
    )


def _token_field() -> forms.CharField:
    # One per rendered form: a double submit of the same form is the same request.
    return forms.CharField(
        widget=forms.HiddenInput,
        initial=lambda: uuid.uuid4().hex,
        max_length=64,
        validators=[no_control_characters],  # stored with the operation; PostgreSQL refuses a NUL in text
    )


class TickedCheckbox(forms.CheckboxInput):
    """Ticked only by what a browser sends for a ticked box ("on"): Django's own reads any other text, "0" and
    "off" included, as ticked, which is too loose for a confirmation."""

    def value_from_datadict(self, data, files, name):
        return data.get(name) == "on"


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
        label=_("Description"),
        min_length=3,
        max_length=100,
        help_text=_("Shown in the app."),
        validators=[no_control_characters],
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

    def __init__(self, *args, merchant, checkin=None, earlier=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.checkin, self.earlier = checkin, earlier
        if earlier is not None:
            # Only offered (and required) when the check-in already has a payment in flight or paid.
            self.fields["allow_second_payment"] = forms.BooleanField(
                label=gettext("Yes, ask this customer for a second payment"), required=False, widget=TickedCheckbox
            )
        self.fields["sales_unit"].queryset = merchant.sales_units.order_by("name")
        if checkin is not None:
            del self.fields["sales_unit"], self.fields["phone_number"]
        else:
            self.fields["phone_number"].required = True

    def clean(self):
        data = super().clean()
        if self.earlier is not None and not data.get("allow_second_payment"):
            from .services import payment_request_key, second_payment_warning

            key = payment_request_key(sales_unit_id=self.earlier.sales_unit_id, request_token=data.get("request_token"))
            if self.earlier.idempotency_key != key:  # the same form again (a double submit) is the same payment
                self.add_error("allow_second_payment", second_payment_warning(payment=self.earlier))
        return data

    def clean_phone_number(self) -> str:
        value = self.cleaned_data.get("phone_number", "").strip().lstrip("+")
        if value:
            phone_validator(value)
        return value

    def clean_amount(self) -> int:
        return to_minor(self.cleaned_data["amount"])

    def clean_order_lines(self) -> list[dict]:
        # Only "\n" and "\r\n" end a line here: str.splitlines() would also split on other control characters.
        rows = [row for row in self.cleaned_data["order_lines"].replace("\r\n", "\n").split("\n") if row.strip()]
        if len(rows) > ORDER_LINES_MAX:
            raise forms.ValidationError(gettext("Write at most %(max)s receipt lines.") % {"max": ORDER_LINES_MAX})
        return [self._order_line(number, row) for number, row in enumerate(rows, start=1)]

    @staticmethod
    def _order_line(number: int, row: str) -> dict:
        parts = [part.strip() for part in row.split(";")]
        if len(parts) != 4 or not QUANTITY.fullmatch(parts[1]) or not TAX_PERCENTAGE.fullmatch(parts[3]):
            raise forms.ValidationError(
                gettext("Line %(number)s should read: name; quantity; unit price; VAT %%.") % {"number": number}
            )
        name, quantity, price, tax = parts
        if control_character(name) is not None or len(name) > LINE_NAME_MAX:
            raise forms.ValidationError(
                gettext("Line %(number)s: a name of at most %(max)s letters, digits, punctuation and spaces.")
                % {"number": number, "max": LINE_NAME_MAX}
            )
        unit_price = Decimal(price.replace(",", ".")) if LINE_PRICE.fullmatch(price) else None
        if unit_price is None or unit_price > MAX_MAJOR:
            raise forms.ValidationError(
                gettext("Line %(number)s: write the unit price with digits, at most %(max)s, e.g. 35.00.")
                % {"number": number, "max": MAX_MAJOR}
            )
        quantity = Decimal(quantity.replace(",", "."))
        if quantity <= 0 or int(tax) > 100:
            raise forms.ValidationError(
                gettext("Line %(number)s: quantity above 0 and VAT 0-100 %%.") % {"number": number}
            )
        return {
            "name": name or gettext("Line %(number)s") % {"number": number},
            "quantity": str(quantity),
            "unit_price": to_minor(unit_price),
            "tax_percentage": int(tax),
        }


class OperationForm(forms.Form):
    amount = _major_field(_("Amount"), required=False)
    request_token = _token_field()

    def clean_amount(self) -> int | None:
        value = self.cleaned_data["amount"]
        return to_minor(value) if value is not None else None


class RefundForm(OperationForm):
    """The amount starts empty: "everything" is a choice of its own, never a pre-filled box."""

    EVERYTHING, PART = "all", "part"
    scope = forms.ChoiceField(widget=forms.RadioSelect, required=False)
    amount = _major_field(_("Refund amount"), required=False)

    def __init__(self, *args, everything: int, currency: str, **kwargs):
        from merchant_portal.core.i18n import format_money

        super().__init__(*args, **kwargs)
        self.everything = everything
        self.fields["scope"].choices = [
            (
                self.EVERYTHING,
                gettext("Refund everything: %(amount)s") % {"amount": format_money(everything, currency)},
            ),
            (self.PART, gettext("Refund part of it")),
        ]

    def clean(self):
        data = super().clean()
        scope, amount = data.get("scope"), data.get("amount")
        if scope == self.EVERYTHING and amount is not None:
            raise forms.ValidationError(
                gettext("Choose either “Refund everything” or an amount, not both."), code="ambiguous"
            )
        if scope == self.EVERYTHING:
            data["amount"] = self.everything
        elif amount is None and "amount" not in self.errors:
            raise forms.ValidationError(
                gettext("Choose “Refund everything” or give the amount to refund."), code="required"
            )
        return data


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *MerchantStatus.choices], required=False
    )
    # Vipps' own state: kept for links that filter on it, not offered in the bar (the status says it better).
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("Any state")), *Payment.State.choices],
        required=False,
        widget=forms.HiddenInput,
    )
    location = forms.ModelChoiceField(label=_("Location"), queryset=None, required=False, empty_label=_("Any location"))
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[MinValueValidator(FILTER_DATE_MIN), MaxValueValidator(FILTER_DATE_MAX)],
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[MinValueValidator(FILTER_DATE_MIN), MaxValueValidator(FILTER_DATE_MAX)],
    )
    amount_min = PlainDecimalField(
        label=_("Amount from"), required=False, min_value=0, max_value=MAX_MAJOR, decimal_places=2
    )
    amount_max = PlainDecimalField(
        label=_("Amount to"), required=False, min_value=0, max_value=MAX_MAJOR, decimal_places=2
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=50, validators=[no_control_characters])

    def __init__(self, *args, merchant, **kwargs):
        from qrcodes.models import Location

        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = (
            Location.objects.for_merchant(merchant).select_related("sales_unit").order_by("name", "sales_unit__name")
        )


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
        self.fields["description"].validators.append(no_control_characters)
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
