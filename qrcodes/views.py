from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from merchant_portal.tenancy.models import SalesUnit
from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin
from merchant_portal.tenancy.selectors import sales_units_for_merchant

from . import selectors, services
from .forms import BeaconForm, LocationForm, QrCodeBulkForm, QrCodeCreateForm, QrCodeEditForm, SheetForm
from .models import Location, QrCode, QrImage, QrSheet


def _form_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


QR_CODES_PER_PAGE = 50


class HtmxPartialMixin:
    """htmx polls a page for its live part: the same view answers with `partial_template_name` only."""

    partial_template_name = ""

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return [self.partial_template_name]
        return super().get_template_names()


# Locations -----------------------------------------------------------------------------------------------


class LocationListView(MerchantMixin, ListView):
    template_name = "qrcodes/location_list.html"
    context_object_name = "locations"

    def get_queryset(self):
        return selectors.locations_for_merchant(merchant=self.request.merchant)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        units = list(sales_units_for_merchant(merchant=self.request.merchant))
        for unit in units:
            unit.location_rows = [loc for loc in ctx["locations"] if loc.sales_unit_id == unit.pk]
            unit.last_reconciliation = selectors.latest_reconciliation(sales_unit=unit)
        ctx["sales_units"] = units
        return ctx


class LocationCreateView(MerchantMixin, FormView):
    permission = Perm.MANAGE_LOCATIONS
    form_class = LocationForm
    template_name = "qrcodes/location_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "merchant": self.request.merchant}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            location = services.location_create(actor=self.request.user, **data)
        except ValidationError as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, gettext("Location %(name)s added.") % {"name": location.name})
        return redirect("location_detail", merchant_slug=self.request.merchant.slug, pk=location.pk)


class LocationDetailView(HtmxPartialMixin, ScopedObjectMixin, DetailView):
    model = Location
    template_name = "qrcodes/location_detail.html"
    partial_template_name = "qrcodes/_qr_code_table.html"
    context_object_name = "location"

    def get_queryset(self):
        return super().get_queryset().select_related("sales_unit")

    def get_context_data(self, **kwargs):
        codes = selectors.qr_codes_for_location(location=self.object)
        # Each row inlines its PNG thumbnail, so a page of every code of a big location would weigh megabytes.
        page = Paginator(codes, QR_CODES_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            qr_codes=page.object_list,
            page_obj=page,
            sync_progress=selectors.qr_codes_sync_progress(location=self.object),
            polling=selectors.qr_codes_awaiting_vipps(codes),
            sheets=selectors.recent_sheets(sales_unit=self.object.sales_unit, location=self.object),
            **kwargs,
        )


class LocationUpdateView(ScopedObjectMixin, FormView):
    model = Location
    permission = Perm.MANAGE_LOCATIONS
    form_class = LocationForm
    template_name = "qrcodes/location_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object(), "merchant": self.request.merchant}

    def get_context_data(self, **kwargs):
        return super().get_context_data(location=self.get_object(), **kwargs)

    def form_valid(self, form):
        location = Location.objects.get(pk=self.get_object().pk)
        try:
            services.location_update(location=location, actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, gettext("Location saved."))
        return redirect("location_detail", merchant_slug=self.request.merchant.slug, pk=location.pk)


class LocationDeleteView(ScopedObjectMixin, DetailView):
    model = Location
    permission = Perm.MANAGE_LOCATIONS
    template_name = "qrcodes/location_confirm_delete.html"
    context_object_name = "location"

    def post(self, request, *args, **kwargs):
        location = self.get_object()
        try:
            services.location_delete(location=location, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("location_detail", merchant_slug=request.merchant.slug, pk=location.pk)
        messages.success(request, gettext("Location %(name)s deleted.") % {"name": location.name})
        return redirect("location_list", merchant_slug=request.merchant.slug)


# QR codes ------------------------------------------------------------------------------------------------


class LocationFormMixin(ScopedObjectMixin):
    """A form that adds QR codes to the location in the URL."""

    model = Location
    permission = Perm.MANAGE_QR_CODES

    @cached_property
    def location(self) -> Location:
        return self.get_object(self.get_queryset().select_related("sales_unit__merchant"))

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "location": self.location}

    def get_context_data(self, **kwargs):
        return super().get_context_data(location=self.location, **kwargs)

    def create(self, form) -> str:
        raise NotImplementedError

    def form_valid(self, form):
        try:
            message = self.create(form)
        except ValidationError as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return redirect("location_detail", merchant_slug=self.request.merchant.slug, pk=self.location.pk)


class QrCodeCreateView(LocationFormMixin, FormView):
    form_class = QrCodeCreateForm
    template_name = "qrcodes/qr_code_form.html"

    def get_initial(self):
        [(suggested, _)] = selectors.next_merchant_qr_ids(sales_unit=self.location.sales_unit, name=self.location.name)
        return {"location_description": self.location.name[:36], "merchant_qr_id": suggested}

    def create(self, form) -> str:
        code = services.qr_code_create(location=self.location, actor=self.request.user, **form.cleaned_data)
        return gettext("QR code %(id)s saved; it is being sent to Vipps.") % {"id": code.merchant_qr_id}


class QrCodeBulkCreateView(LocationFormMixin, FormView):
    form_class = QrCodeBulkForm
    template_name = "qrcodes/qr_code_bulk_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("location")
        return kwargs

    def get_initial(self):
        return {"description": self.location.name[:28]}

    def create(self, form) -> str:
        codes = services.qr_codes_bulk_create(location=self.location, actor=self.request.user, **form.cleaned_data)
        return ngettext(
            "%(count)s QR code saved (%(first)s to %(last)s); they are being sent to Vipps.",
            "%(count)s QR codes saved (%(first)s to %(last)s); they are being sent to Vipps.",
            len(codes),
        ) % {"count": len(codes), "first": codes[0], "last": codes[-1]}


class QrCodeMapBeaconView(LocationFormMixin, FormView):
    form_class = BeaconForm
    template_name = "qrcodes/qr_code_beacon_form.html"

    def get_initial(self):
        return {"location_description": self.location.name[:36]}

    def create(self, form) -> str:
        code = services.qr_code_map_beacon(location=self.location, actor=self.request.user, **form.cleaned_data)
        return gettext("MobilePay QR %(id)s saved; the mapping is being sent to Vipps.") % {"id": code.merchant_qr_id}


class QrCodeDetailView(ScopedObjectMixin, DetailView):
    model = QrCode
    template_name = "qrcodes/qr_code_detail.html"
    context_object_name = "qr_code"

    def get_queryset(self):
        return super().get_queryset().select_related("location", "sales_unit")

    def get_context_data(self, **kwargs):
        has_png = QrImage.objects.filter(qr_code=self.object, format=QrImage.Format.PNG).exists()
        return super().get_context_data(has_png=has_png, **kwargs)


class QrCodeUpdateView(ScopedObjectMixin, FormView):
    model = QrCode
    permission = Perm.MANAGE_QR_CODES
    form_class = QrCodeEditForm
    template_name = "qrcodes/qr_code_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "qr_code": self.get_object()}

    def get_initial(self):
        code = self.get_object()
        return {"location_description": code.location_description, "category": code.category, "location": code.location}

    def get_context_data(self, **kwargs):
        code = self.get_object()
        return super().get_context_data(qr_code=code, location=code.location, **kwargs)

    def form_valid(self, form):
        code = self.get_object()
        try:
            services.qr_code_update(qr_code=code, actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, gettext("QR code %(id)s saved.") % {"id": code.merchant_qr_id})
        return redirect("location_detail", merchant_slug=self.request.merchant.slug, pk=code.location_id)


class QrCodeDeleteView(ScopedObjectMixin, DetailView):
    model = QrCode
    permission = Perm.MANAGE_QR_CODES
    template_name = "qrcodes/qr_code_confirm_delete.html"
    context_object_name = "qr_code"

    def post(self, request, *args, **kwargs):
        code = self.get_object()
        services.qr_code_delete(qr_code=code, actor=request.user)
        messages.success(request, gettext("QR code %(id)s is being deleted at Vipps.") % {"id": code.merchant_qr_id})
        return redirect("location_detail", merchant_slug=request.merchant.slug, pk=code.location_id)


class QrCodeActionView(ScopedObjectMixin, View):
    model = QrCode
    permission = Perm.MANAGE_QR_CODES
    http_method_names = ["post"]

    def act(self, code: QrCode) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        code = self.get_object()
        try:
            messages.success(request, self.act(code))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("qr_code_detail", kwargs={"merchant_slug": request.merchant.slug, "pk": code.pk})
        return redirect(back)


class QrCodeRetryView(QrCodeActionView):
    def act(self, code: QrCode) -> str:
        services.qr_code_retry(qr_code=code, actor=self.request.user)
        return gettext("QR code %(id)s is being sent to Vipps again.") % {"id": code.merchant_qr_id}


class QrCodeAcceptRemoteView(QrCodeActionView):
    def act(self, code: QrCode) -> str:
        services.qr_code_accept_remote(qr_code=code, actor=self.request.user)
        return gettext("QR code %(id)s now keeps what Vipps has.") % {"id": code.merchant_qr_id}


class QrCodeImageView(ScopedObjectMixin, View):
    model = QrCode

    def get(self, request, *args, **kwargs):
        image = QrImage.objects.filter(qr_code=self.get_object(), format=QrImage.Format.PNG).first()
        if image is None:
            raise Http404(gettext("No image yet."))
        response = HttpResponse(bytes(image.content), content_type="image/png")
        response["Cache-Control"] = "private, max-age=300"
        return response


# Sheets --------------------------------------------------------------------------------------------------


class SheetRequestMixin(ScopedObjectMixin):
    form_class = SheetForm
    template_name = "qrcodes/sheet_form.html"

    def scope(self) -> tuple[SalesUnit, Location | None]:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        sales_unit, location = self.scope()
        codes = selectors.qr_codes_for_sheet(sales_unit=sales_unit, location=location)
        return super().get_context_data(
            sales_unit=sales_unit,
            location=location,
            code_count=codes.count(),
            sheets=selectors.recent_sheets(sales_unit=sales_unit, location=location),
            **kwargs,
        )

    def form_valid(self, form):
        sales_unit, location = self.scope()
        try:
            sheet = services.qr_sheet_request(
                sales_unit=sales_unit, location=location, layout=form.cleaned_data["layout"], actor=self.request.user
            )
        except ValidationError as exc:
            _form_error(form, exc)
            return self.form_invalid(form)
        if sheet.state == QrSheet.State.DONE:
            return pdf_response(sheet)
        return redirect("qr_sheet_detail", merchant_slug=self.request.merchant.slug, pk=sheet.pk)


class SalesUnitSheetView(SheetRequestMixin, FormView):
    model = SalesUnit

    def scope(self):
        return self.get_object(), None


class LocationSheetView(SheetRequestMixin, FormView):
    model = Location

    def scope(self):
        location = self.get_object(self.get_queryset().select_related("sales_unit"))
        return location.sales_unit, location


def pdf_response(sheet: QrSheet) -> HttpResponse:
    response = HttpResponse(bytes(sheet.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{sheet.filename}"'
    return response


class QrSheetDetailView(HtmxPartialMixin, ScopedObjectMixin, DetailView):
    model = QrSheet
    template_name = "qrcodes/sheet_detail.html"
    partial_template_name = "qrcodes/_sheet_status.html"
    context_object_name = "sheet"

    def get_queryset(self):
        return super().get_queryset().defer("pdf").select_related("sales_unit", "location")


class QrSheetDownloadView(ScopedObjectMixin, View):
    model = QrSheet

    def get(self, request, *args, **kwargs):
        sheet = self.get_object()
        if sheet.state != QrSheet.State.DONE:
            raise Http404(gettext("This sheet is not ready."))
        return pdf_response(sheet)


# Reconcile -----------------------------------------------------------------------------------------------


class ReconcileView(HtmxPartialMixin, ScopedObjectMixin, TemplateView):
    model = SalesUnit
    template_name = "qrcodes/reconcile.html"
    partial_template_name = "qrcodes/_reconcile_status.html"

    def get_context_data(self, **kwargs):
        unit = self.get_object()
        return super().get_context_data(
            sales_unit=unit,
            run=selectors.latest_reconciliation(sales_unit=unit),
            flagged=selectors.qr_codes_needing_attention(sales_unit=unit),
            **kwargs,
        )


class ReconcileStartView(ScopedObjectMixin, View):
    model = SalesUnit
    permission = Perm.MANAGE_QR_CODES
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        unit = self.get_object()
        services.reconciliation_start(sales_unit=unit, actor=request.user)
        messages.success(request, gettext("Comparing with Vipps…"))
        return redirect("qr_reconcile", merchant_slug=request.merchant.slug, pk=unit.pk)
