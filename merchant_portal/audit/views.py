from django.views.generic import ListView

from merchant_portal.tenancy.roles import Perm
from merchant_portal.tenancy.scoping import MerchantMixin

from .forms import AuditFilterForm
from .selectors import audit_entries_described, audit_entries_for_merchant


class AuditLogView(MerchantMixin, ListView):
    permission = Perm.VIEW_AUDIT_LOG
    template_name = "audit/list.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        self.form = AuditFilterForm(self.request.GET or None)
        topic = self.form.cleaned_data["topic"] if self.form.is_valid() else ""
        return audit_entries_for_merchant(merchant=self.request.merchant, topic=topic)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(form=self.form, **kwargs)
        ctx["entries"] = audit_entries_described(entries=ctx["entries"])
        return ctx
