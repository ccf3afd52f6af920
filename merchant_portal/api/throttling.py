from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (settings.API_THROTTLE_RATE); over it, 429 with Retry-After."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read per request, not at import, so a deployment (or a test) can change it.
        return settings.API_THROTTLE_RATE

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        # The prefix, not the id: ids are reused after a rollback (tests) or a restore.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
