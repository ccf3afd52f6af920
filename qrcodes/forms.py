from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from merchant_portal.core.validators import no_control_characters
from merchant_portal.tenancy.selectors import sales_units_for_merchant

from .models import LOCATION_DESCRIPTION_MAX, Location, QrCode, QrSheet, beacon_id_validator
from .services import BULK_MAX


def _description_help() -> str:
    return ngettext(
        "At most %(max)s character (Vipps' limit). Shown in the Vipps and MobilePay app after a scan.",
        "At most %(max)s characters (Vipps' limit). Shown in the Vipps and MobilePay app after a scan.",
        LOCATION_DESCRIPTION_MAX,
    ) % {"max": LOCATION_DESCRIPTION_MAX}


def _bulk_description_help() -> str:
    return ngettext(
        "Each code gets this with its number, e.g. “Automat 7”: at most %(max)s character together (Vipps' limit).",
        "Each code gets this with its number, e.g. “Automat 7”: at most %(max)s characters together (Vipps' limit).",
        LOCATION_DESCRIPTION_MAX,
    ) % {"max": LOCATION_DESCRIPTION_MAX}


# Help texts with a number: formatted when a form is rendered, in the language active then.
DESCRIPTION_HELP = lazy(_description_help, str)()
CATEGORY_HELP = _("Sets the waiting screen in the app: “In store” (the default) or “Vending machine”.")


def description_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=_("Location description"),
        max_length=LOCATION_DESCRIPTION_MAX,
        help_text=DESCRIPTION_HELP,
        validators=[no_control_characters],
        **kwargs,
    )


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["sales_unit", "name", "address", "mobilepay_pos_id"]
        help_texts = {
            "mobilepay_pos_id": _("Only for the legacy MobilePay PoS: the PosId whose check-ins belong here."),
        }

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["sales_unit"]  # a location's codes live under its MSN: it cannot move
        else:
            self.fields["sales_unit"].queryset = sales_units_for_merchant(merchant=merchant)
            self.fields["sales_unit"].empty_label = None

    def clean_mobilepay_pos_id(self) -> str:
        return self.cleaned_data["mobilepay_pos_id"].lower()


class QrCodeCreateForm(forms.Form):
    location_description = description_field()
    category = forms.ChoiceField(
        label=_("Category"), choices=QrCode.Category.choices, initial=QrCode.Category.IN_STORE, help_text=CATEGORY_HELP
    )
    merchant_qr_id = forms.CharField(
        label=_("Merchant QR id"),
        max_length=36,
        required=False,
        validators=[QrCode._meta.get_field("merchant_qr_id").validators[0]],
        help_text=_(
            "Letters, digits and hyphens, at most 36. Leave it as suggested or write your own; it can never be changed."
        ),
    )

    def __init__(self, *args, location: Location, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location

    def clean_merchant_qr_id(self):
        value = self.cleaned_data["merchant_qr_id"]
        if value and QrCode.objects.filter(sales_unit=self.location.sales_unit, merchant_qr_id=value).exists():
            raise forms.ValidationError(_("This sales unit already has a QR code with this id."))
        return value


class QrCodeEditForm(forms.Form):
    location_description = description_field()
    category = forms.ChoiceField(label=_("Category"), choices=QrCode.Category.choices, help_text=CATEGORY_HELP)
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), empty_label=None)

    def __init__(self, *args, qr_code: QrCode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(sales_unit=qr_code.sales_unit_id).select_related(
            "sales_unit"
        )
        self.fields["location"].help_text = _("Where the code hangs; only kept here, Vipps does not know it.")


class QrCodeBulkForm(forms.Form):
    count = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=BULK_MAX, initial=10)
    description = forms.CharField(
        label=_("Location description"),
        max_length=LOCATION_DESCRIPTION_MAX - 4,
        help_text=lazy(_bulk_description_help, str)(),
        validators=[no_control_characters],
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=QrCode.Category.choices, initial=QrCode.Category.IN_STORE, help_text=CATEGORY_HELP
    )


class BeaconForm(forms.Form):
    beacon_id = forms.CharField(
        label=_("MobilePay beaconId"),
        max_length=36,
        validators=[beacon_id_validator],
        help_text=_("The id printed under the existing MobilePay PoS QR: a GUID or 15 digits."),
    )
    location_description = description_field()

    def __init__(self, *args, location: Location, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location

    def clean_beacon_id(self):
        value = self.cleaned_data["beacon_id"]
        if QrCode.objects.filter(sales_unit=self.location.sales_unit, merchant_qr_id__iexact=value).exists():
            raise forms.ValidationError(_("This sales unit already has a QR code with this id."))
        return value


class SheetForm(forms.Form):
    layout = forms.ChoiceField(
        label=_("Layout"), choices=QrSheet.Layout.choices, initial=QrSheet.Layout.TWELVE, widget=forms.RadioSelect
    )
