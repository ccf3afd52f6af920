from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, TemplateView

from merchant_portal.audit.selectors import audit_entries_described, audit_entries_for_merchant
from merchant_portal.core import i18n

from . import services
from .dashboard import dashboard_live, dashboard_period
from .forms import LanguageForm, MemberAddForm, MemberRoleForm, SalesUnitForm
from .models import Membership, SalesUnit
from .roles import Perm
from .scoping import MerchantMixin, ScopedObjectMixin
from .selectors import (
    members_for_merchant,
    memberships_for_user,
    vipps_calls_for_sales_unit,
)
from .vipps import environment_mismatch, portal_environment


@login_required
def home(request):
    """Send the user to the merchant they used last, or let them choose."""
    memberships = list(memberships_for_user(user=request.user))
    slugs = {m.merchant.slug for m in memberships}
    last = request.session.get("last_merchant")
    if last in slugs:
        return redirect("dashboard", merchant_slug=last)
    if len(memberships) == 1:
        return redirect("dashboard", merchant_slug=memberships[0].merchant.slug)
    return redirect("merchant_switch")


@login_required
def merchant_switch(request):
    return render(request, "tenancy/merchant_switch.html", {"memberships": memberships_for_user(user=request.user)})


class DashboardView(MerchantMixin, TemplateView):
    """Today's (or the last 7 or 30 days') activity, conversion, a chart and webhook health. Every member sees it;
    the live part is re-fetched every 15 s by htmx from `DashboardLiveView`."""

    template_name = "tenancy/dashboard.html"
    full_page = True

    def get_context_data(self, **kwargs):
        merchant = self.request.merchant
        # An unknown `period` is today, never an error: the page is often a bookmark on a wall-mounted tablet.
        period = dashboard_period(self.request.GET.get("period"))
        ctx = super().get_context_data(**kwargs)
        ctx.update(dashboard_live(merchant=merchant, period=period))
        if self.full_page:
            ctx["member_count"] = members_for_merchant(merchant=merchant).count()
            if self.request.membership.has_perm(Perm.VIEW_AUDIT_LOG):
                recent = audit_entries_for_merchant(merchant=merchant)[:8]
                ctx["recent_activity"] = audit_entries_described(entries=recent)
        return ctx


class DashboardLiveView(DashboardView):
    """The part of the dashboard htmx refreshes (same permission and scoping as the page)."""

    template_name = "tenancy/_dashboard_live.html"
    full_page = False


# Sales units ---------------------------------------------------------------------------------------------


class SalesUnitListView(ScopedObjectMixin, ListView):
    model = SalesUnit
    template_name = "tenancy/sales_unit_list.html"
    context_object_name = "sales_units"


class SalesUnitDetailView(ScopedObjectMixin, DetailView):
    model = SalesUnit
    template_name = "tenancy/sales_unit_detail.html"
    context_object_name = "sales_unit"

    def get_context_data(self, **kwargs):
        return super().get_context_data(environment_problem=environment_mismatch(self.object), **kwargs)


class SalesUnitCreateView(MerchantMixin, FormView):
    permission = Perm.MANAGE_CREDENTIALS
    form_class = SalesUnitForm
    template_name = "tenancy/sales_unit_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        environment = portal_environment() or SalesUnit._meta.get_field("environment").default
        kwargs["instance"] = SalesUnit(merchant=self.request.merchant, environment=environment)
        return kwargs

    def form_valid(self, form):
        unit = services.sales_unit_create(merchant=self.request.merchant, actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Sales unit %(name)s (%(msn)s) added.") % {"name": unit.name, "msn": unit.msn})
        return redirect("sales_unit_detail", merchant_slug=self.request.merchant.slug, pk=unit.pk)


class SalesUnitUpdateView(ScopedObjectMixin, FormView):
    model = SalesUnit
    permission = Perm.MANAGE_CREDENTIALS
    form_class = SalesUnitForm
    template_name = "tenancy/sales_unit_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(sales_unit=self.get_object(), **kwargs)

    def form_valid(self, form):
        # Form validation changed the instance in memory; persist through the service, which audits the change.
        unit = SalesUnit.objects.get(pk=self.get_object().pk)
        services.sales_unit_update(sales_unit=unit, actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Sales unit saved."))
        return redirect("sales_unit_detail", merchant_slug=self.request.merchant.slug, pk=unit.pk)


class SalesUnitDeleteView(ScopedObjectMixin, DetailView):
    model = SalesUnit
    permission = Perm.MANAGE_CREDENTIALS
    template_name = "tenancy/sales_unit_confirm_delete.html"
    context_object_name = "sales_unit"

    def post(self, request, *args, **kwargs):
        unit = self.get_object()
        services.sales_unit_delete(sales_unit=unit, actor=request.user)
        messages.success(request, _("Sales unit %(name)s deleted.") % {"name": unit.name})
        return redirect("sales_unit_list", merchant_slug=request.merchant.slug)


class SalesUnitTestConnectionView(ScopedObjectMixin, View):
    model = SalesUnit
    permission = Perm.MANAGE_CREDENTIALS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        unit = self.get_object()
        result = services.sales_unit_test_connection(sales_unit=unit, actor=request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect("sales_unit_detail", merchant_slug=request.merchant.slug, pk=unit.pk)


class SalesUnitCallLogView(ScopedObjectMixin, DetailView):
    """The outbound call log of a sales unit: every request to Vipps and its answer, masked."""

    model = SalesUnit
    permission = Perm.VIEW_AUDIT_LOG
    template_name = "tenancy/sales_unit_calls.html"
    context_object_name = "sales_unit"

    def get_context_data(self, **kwargs):
        failed_only = self.request.GET.get("failed") == "1"
        calls = vipps_calls_for_sales_unit(sales_unit=self.object, failed_only=failed_only)
        return super().get_context_data(calls=calls, failed_only=failed_only, **kwargs)


# Members -------------------------------------------------------------------------------------------------


class MemberListView(MerchantMixin, ListView):
    template_name = "tenancy/member_list.html"
    context_object_name = "memberships"

    def get_queryset(self):
        return members_for_merchant(merchant=self.request.merchant)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["invite_link"] = self.request.session.pop("invite_link", None)
        return ctx


class MemberAddView(MerchantMixin, FormView):
    permission = Perm.MANAGE_MEMBERS
    form_class = MemberAddForm
    template_name = "tenancy/member_form.html"

    def form_valid(self, form):
        try:
            membership, link = services.member_add(
                merchant=self.request.merchant, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if link:
            # Shown once on the next page, to hand to the new member; not stored anywhere else.
            self.request.session["invite_link"] = {
                "email": membership.user.email,
                "url": self.request.build_absolute_uri(link),
            }
        who = membership.user.email or membership.user
        messages.success(
            self.request, _("%(who)s added as %(role)s.") % {"who": who, "role": membership.get_role_display()}
        )
        return redirect("member_list", merchant_slug=self.request.merchant.slug)


class MemberEditView(ScopedObjectMixin, FormView):
    model = Membership
    permission = Perm.MANAGE_MEMBERS
    form_class = MemberRoleForm
    template_name = "tenancy/member_edit.html"

    def get_membership(self) -> Membership:
        return self.get_object(self.get_queryset().select_related("user"))

    def get_initial(self):
        return {"role": self.get_membership().role}

    def get_context_data(self, **kwargs):
        return super().get_context_data(membership=self.get_membership(), **kwargs)

    def form_valid(self, form):
        membership = self.get_membership()
        try:
            if "remove" in self.request.POST:
                services.member_remove(membership=membership, actor=self.request.user)
                messages.success(self.request, _("%(user)s removed.") % {"user": membership.user})
            else:
                services.member_change_role(
                    membership=membership, actor=self.request.user, role=form.cleaned_data["role"]
                )
                messages.success(
                    self.request,
                    _("%(user)s is now %(role)s.") % {"user": membership.user, "role": membership.get_role_display()},
                )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if membership.user == self.request.user and "remove" in self.request.POST:
            return redirect(reverse("home"))
        return redirect("member_list", merchant_slug=self.request.merchant.slug)


# Language -----------------------------------------------------------------------------------------------


@require_POST
def language_set(request):
    """The language picker: remembered on the user's profile (and session) and in the language cookie.

    Anonymous visitors (the login page) get the cookie only. An unknown language is a form error: 400.
    """
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown language."))
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.user_language_set(user=request.user, language=language)
        request.session[i18n.SESSION_KEY] = language
    next_url = request.POST.get("next", "")
    allowed = {request.get_host()}
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=allowed, require_https=request.is_secure()):
        next_url = reverse("home")
    response = redirect(next_url)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response
