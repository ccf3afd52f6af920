from django.views.generic import ListView

from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin

from .selectors import audit_entries_for_merchant


class AuditLogView(MerchantMixin, ListView):
    permission = Perm.VIEW_AUDIT_LOG
    template_name = "audit/list.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        return audit_entries_for_merchant(
            merchant=self.request.merchant, action_prefix=self.request.GET.get("action", "").strip()
        )
