from rest_framework import permissions

from .models import ApiKey


class HasApiKey(permissions.BasePermission):
    """Any active key may read; only a read-write key may write (403 otherwise)."""

    message = "This API key is read-only."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return False
        return request.method in permissions.SAFE_METHODS or request.auth.can_write
