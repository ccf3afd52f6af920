from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, TemplateView

from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin, ScopedObjectMixin
from qrcodes.models import Location
from vipps import VippsError

from . import selectors, services
from .models import CheckIn


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
            {"checkin": c, "countdown": _countdown(c, now)} for c in selectors.checkins_waiting_at(location=self.object)
        ]
        recent = selectors.checkins_recent_at(location=self.object)
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
            messages.success(request, f"The customer's phone number: {phone}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except VippsError as exc:
            messages.error(request, f"Vipps could not give the phone number: {exc}")
        except Exception as exc:  # WrongEnvironment and the like: say why instead of a 500
            messages.error(request, str(exc))
        return redirect("checkin_console", merchant_slug=request.merchant.slug, pk=checkin.location_id)
