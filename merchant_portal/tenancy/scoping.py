"""Tenant scoping for views: every merchant page goes through `MerchantMixin`.

The merchant comes from the URL (`/m/<merchant_slug>/...`). A user who is not a member of it gets 404 (we do
not confirm that another merchant exists); a member whose role lacks the view's permission gets 403. Objects
are looked up only through `Model.objects.for_merchant(request.merchant)`, so another merchant's id is a 404.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .roles import Perm
from .selectors import membership_for_user


class MerchantMixin:
    permission: Perm = Perm.VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_user(user=request.user, merchant_slug=kwargs["merchant_slug"])
        if membership is None:
            raise Http404(_("No such merchant."))
        request.merchant = membership.merchant
        request.membership = membership
        if not membership.has_perm(self.permission):
            raise PermissionDenied(_("Your role (%(role)s) cannot do this.") % {"role": membership.get_role_display()})
        if request.session.get("last_merchant") != membership.merchant.slug:
            # Only on a change: writing the session on every request serialises a user's parallel requests.
            request.session["last_merchant"] = membership.merchant.slug
        return super().dispatch(request, *args, **kwargs)


class ScopedObjectMixin(MerchantMixin):
    """For list, detail, update and delete views of a merchant-scoped model."""

    model = None

    def get_queryset(self):
        return self.model.objects.for_merchant(self.request.merchant)

    def get_object(self, queryset=None):
        if getattr(self, "_object", None) is None:
            queryset = self.get_queryset() if queryset is None else queryset
            self._object = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self._object
