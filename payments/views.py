import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView, UpdateView

from merchant_portal.core.i18n import machine_amount
from merchant_portal.core.validators import ascii_id
from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin
from qrcodes.models import Location
from vipps import VippsError

from . import selectors, services
from .forms import OperationForm, PaymentFilterForm, PaymentRequestForm, PaymentRuleForm, RefundForm
from .models import CheckIn, Payment, PaymentOperation, PaymentRule


class CheckinLocationListView(MerchantMixin, TemplateView):
    template_name = "payments/checkin_location_list.html"

    def get_context_data(self, **kwargs):
        locations = selectors.locations_with_checkin_counts(merchant=self.request.merchant)
        return super().get_context_data(locations=locations, **kwargs)


def _countdown(checkin: CheckIn, now) -> str:
    seconds = max(0, int((checkin.expires_at - now).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


class CheckinConsoleView(ScopedObjectMixin, DetailView):
    """The staff screen of one location: who is waiting, refreshed every second (htmx polling the rows view)."""

    model = Location
    template_name = "payments/checkin_console.html"
    context_object_name = "location"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        waiting = [
            {"checkin": c, "countdown": _countdown(c, now), "outcome": selectors.checkin_outcome(checkin=c)}
            for c in selectors.checkins_waiting_at(location=self.object)
        ]
        recent = [
            {"checkin": c, "outcome": selectors.checkin_outcome(checkin=c)}
            for c in selectors.checkins_recent_at(location=self.object)
        ]
        return super().get_context_data(waiting=waiting, recent=recent, now=now, **kwargs)


class CheckinConsoleRowsView(CheckinConsoleView):
    template_name = "payments/_checkin_rows.html"


class CheckinExchangePhoneView(ScopedObjectMixin, View):
    model = CheckIn
    permission = Perm.REQUEST_PAYMENTS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        checkin = self.get_object(self.get_queryset().select_related("sales_unit__merchant"))
        try:
            phone = services.checkin_exchange_phone(checkin=checkin, actor=request.user)
            messages.success(request, _("The customer's phone number: %(phone)s") % {"phone": phone})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except VippsError as exc:
            messages.error(request, _("Vipps could not give the phone number: %(error)s") % {"error": exc})
        except Exception as exc:  # WrongEnvironment and the like: say why instead of a 500
            messages.error(request, str(exc))
        return redirect("checkin_console", merchant_slug=request.merchant.slug, pk=checkin.location_id)


# Payments ----------------------------------------------------------------------------------------------------

# Refunds send money out of the merchant's account, so they need a manager.
REFUND_PERMISSION = Perm.REFUND_PAYMENTS


class PaymentListView(MerchantMixin, TemplateView):
    template_name = "payments/payment_list.html"

    def get_context_data(self, **kwargs):
        form = PaymentFilterForm(self.request.GET or None, merchant=self.request.merchant)
        filters = form.cleaned_data if form.is_valid() else {}
        payments = selectors.payments_filtered(merchant=self.request.merchant, filters=filters)
        try:
            after = int(self.request.GET.get("after") or 0) or None
        except ValueError:
            after = None
        rows, next_after = selectors.payments_page(payments=payments, after=after)
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(
            form=form, payments=rows, next_after=next_after, after=after, query=query.urlencode(), **kwargs
        )


class _Echo:
    def write(self, value):
        return value


class PaymentExportView(MerchantMixin, View):
    def get(self, request, *args, **kwargs):
        form = PaymentFilterForm(request.GET or None, merchant=request.merchant)
        filters = form.cleaned_data if form.is_valid() else {}
        payments = selectors.payments_filtered(merchant=request.merchant, filters=filters)
        writer = csv.writer(_Echo())
        rows = (writer.writerow(row) for row in selectors.payments_csv_rows(payments=payments))
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="payments-{request.merchant.slug}-{stamp}.csv"'
        return response


class PaymentCreateView(MerchantMixin, FormView):
    permission = Perm.REQUEST_PAYMENTS
    template_name = "payments/payment_form.html"
    form_class = PaymentRequestForm

    @cached_property
    def checkin(self) -> CheckIn | None:
        pk = self.request.GET.get("checkin") or self.request.POST.get("checkin")
        if not pk:
            return None
        queryset = CheckIn.objects.for_merchant(self.request.merchant).select_related("sales_unit", "location")
        pk = ascii_id(pk)
        return get_object_or_404(queryset, pk=pk) if pk is not None else None

    @cached_property
    def earlier(self) -> Payment | None:
        return selectors.checkin_active_payment(checkin=self.checkin) if self.checkin else None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        return {**kwargs, "merchant": self.request.merchant, "checkin": self.checkin, "earlier": self.earlier}

    def get_initial(self):
        checkin = self.checkin
        rule = PaymentRule.objects.filter(location_id=checkin.location_id).first() if checkin else None
        initial = {}
        if rule and rule.amount:
            initial["amount"] = rule.amount / 100
        if rule and rule.description:
            initial["description"] = rule.description
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(checkin=self.checkin, earlier=self.earlier, now=timezone.now(), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            payment = services.payment_request_create(
                sales_unit=data.get("sales_unit") or self.checkin.sales_unit,
                checkin=self.checkin,
                phone_number=data.get("phone_number", "").strip().lstrip("+"),
                amount=data["amount"],
                description=data["description"],
                lines=data["order_lines"] or None,
                actor=self.request.user,
                request_token=data["request_token"],
                allow_second_payment=bool(data.get("allow_second_payment")),
            )
        except services.SecondPaymentRefused as exc:
            # Another till asked this customer after this form was shown: say which payment, ask to confirm.
            form = self.get_form_class()(**{**self.get_form_kwargs(), "earlier": exc.earlier})
            form.is_valid()
            return self.form_invalid(form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("The payment request is on its way to the customer's app."))
        return redirect("payment_detail", merchant_slug=self.request.merchant.slug, pk=payment.pk)


class PaymentDetailView(ScopedObjectMixin, DetailView):
    model = Payment
    template_name = "payments/payment_detail.html"
    context_object_name = "payment"

    def get_queryset(self):
        return super().get_queryset().select_related("sales_unit", "location", "created_by", "checkin")

    def get_context_data(self, **kwargs):
        payment = self.object
        operations = list(payment.operations.select_related("requested_by"))
        return super().get_context_data(
            timeline=selectors.payment_timeline(payment=payment),
            operations=operations,
            quarantined_operations=[op for op in operations if op.quarantined],
            capture_form=OperationForm(initial={"amount": f"{payment.capturable / 100:.2f}"}),
            refund_form=RefundForm(
                everything=services.payment_operation_left(payment=payment, kind=PaymentOperation.Kind.REFUND),
                currency=payment.currency,
            ),
            cancel_form=OperationForm(),
            can_refund=self.request.membership.has_perm(REFUND_PERMISSION),
            **kwargs,
        )


class _PaymentActionView(ScopedObjectMixin, View):
    model = Payment
    http_method_names = ["post"]

    def back(self):
        return redirect("payment_detail", merchant_slug=self.request.merchant.slug, pk=self.get_object().pk)


class _OperationView(_PaymentActionView):
    """Capture, refund and cancel move money, so each takes two posts: the payment page's form shows a
    confirmation page (amount, customer, reference), and only its "Yes" (`confirm=yes`) saves the operation.
    A post without it, forged or not, only shows the confirmation again."""

    kind = ""
    done_message = ""
    CONFIRM = "yes"

    def form(self, payment: Payment):
        return OperationForm(self.request.POST)

    def post(self, request, *args, **kwargs):
        payment = self.get_object()
        form = self.form(payment)
        if not form.is_valid():
            messages.error(request, " ".join(_form_errors(form)))
            return self.back()
        amount = form.cleaned_data["amount"]
        if self.kind != PaymentOperation.Kind.CANCEL and amount is None:
            messages.error(request, _("Give the amount."))
            return self.back()
        try:
            amount = services.payment_operation_check(payment=payment, kind=self.kind, amount=amount or 0)
            if request.POST.get("confirm") != self.CONFIRM:
                return self.confirmation(payment, amount, form.cleaned_data["request_token"])
            services.payment_operation_request(
                payment=payment,
                kind=self.kind,
                amount=amount,
                request_token=form.cleaned_data["request_token"],
                actor=request.user,
            )
            messages.success(request, str(self.done_message))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return self.back()

    def confirmation(self, payment: Payment, amount: int, request_token: str):
        context = {
            "payment": payment,
            "kind": self.kind,
            # A cancel releases what is left; its operation row carries 0.
            "amount": amount or payment.cancellable,
            # The amount goes back in the form as a machine reads it (never localised).
            "amount_field": machine_amount(amount) if amount else "",
            "request_token": request_token,
            "confirm": self.CONFIRM,
        }
        return render(self.request, "payments/operation_confirm.html", context)


def _form_errors(form) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


class PaymentCaptureView(_OperationView):
    permission = Perm.REQUEST_PAYMENTS
    kind = PaymentOperation.Kind.CAPTURE
    done_message = gettext_lazy("Capture sent to Vipps.")


class PaymentCancelView(_OperationView):
    # Cancelling only releases what the customer reserved (or withdraws an unanswered request): a cashier may
    # correct a mistaken request.
    permission = Perm.REQUEST_PAYMENTS
    kind = PaymentOperation.Kind.CANCEL
    done_message = gettext_lazy("Cancel sent to Vipps.")


class PaymentRefundView(_OperationView):
    permission = REFUND_PERMISSION
    kind = PaymentOperation.Kind.REFUND
    done_message = gettext_lazy("Refund sent to Vipps.")

    def form(self, payment: Payment):
        everything = services.payment_operation_left(payment=payment, kind=self.kind)
        return RefundForm(self.request.POST, everything=everything, currency=payment.currency)


class PaymentRefreshView(_PaymentActionView):
    permission = Perm.REQUEST_PAYMENTS

    def post(self, request, *args, **kwargs):
        payment = self.get_object()
        if payment.sending != Payment.Sending.SENT:
            messages.error(request, _("The payment request has not reached Vipps."))
            return self.back()
        try:
            services.payment_refresh(payment=payment)
            messages.success(request, _("Checked with Vipps."))
        except VippsError as exc:
            messages.error(request, _("Vipps did not answer: %(error)s") % {"error": exc})
        except Exception as exc:  # WrongEnvironment and the like: say why instead of a 500
            messages.error(request, str(exc))
        return self.back()


class PaymentRetryView(_PaymentActionView):
    """Replay what the portal set aside for this payment, once the cause is fixed."""

    permission = Perm.REQUEST_PAYMENTS

    def post(self, request, *args, **kwargs):
        services.payment_retry(payment=self.get_object(), actor=request.user)
        messages.success(request, _("Trying again with Vipps."))
        return self.back()


class PaymentRuleUpdateView(ScopedObjectMixin, UpdateView):
    """The automatic rules of one location (the object is the Location; the rule is created on first save)."""

    model = Location
    permission = Perm.MANAGE_LOCATIONS
    template_name = "payments/payment_rule_form.html"
    form_class = PaymentRuleForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        location = self.get_object()
        kwargs["instance"] = PaymentRule.objects.filter(location=location).first() or PaymentRule(location=location)
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        services.payment_rule_save(
            location=self.get_object(),
            actor=self.request.user,
            request_on_checkin=data["request_on_checkin"],
            amount=data["amount"],
            description=data["description"],
            auto_capture=data["auto_capture"],
        )
        messages.success(self.request, _("Payment rules saved."))
        return redirect("checkin_console", merchant_slug=self.request.merchant.slug, pk=self.get_object().pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(location=self.get_object(), **kwargs)
