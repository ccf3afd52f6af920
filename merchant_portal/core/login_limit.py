"""The log-in limit (django-axes) with two limits: per username and address, and per address.

`AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]` makes axes count both, but it compares
the larger count with one `AXES_FAILURE_LIMIT`. One office behind NAT has many staff who each mistype now and
then, so the address gets its own, higher limit (`LOGIN_FAILURE_LIMIT_PER_ADDRESS`); guessing many usernames
from one address still stops there.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class TwoLimitHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        per_username, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            # Axes locks out when this reaches AXES_FAILURE_LIMIT.
            return max(per_username, settings.AXES_FAILURE_LIMIT)
        return per_username

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A successful log-in forgives that username's failures only: resetting the whole address would let
        # anyone with one account wipe the per-address count between guesses at other accounts.
        per_username = self.filter_user_attempts(request, credentials)[0]
        count, _ = per_username.delete()
        return count


def client_address(request) -> str | None:
    """The address the limit counts. Behind the proxy that TRUST_X_FORWARDED_PROTO trusts, REMOTE_ADDR is the
    proxy's for everyone, so the last X-Forwarded-For entry (the one that proxy appended; entries to its left
    come from the client and can be forged) is used instead."""
    if settings.LOGIN_ADDRESS_FROM_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            # Axes stores it in an inet column on PostgreSQL: anything but an address would fail there.
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")
