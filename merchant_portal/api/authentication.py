from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from .selectors import api_key_for_token
from .services import api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer vmp_<prefix>_<secret>`. `request.auth` is the ApiKey; there is no user.

    Unknown and revoked keys get the same 401, so a response does not tell whether a key ever existed.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed("Send the API key as `Authorization: Bearer <key>`.")
        token = token.strip()
        # A key is printable ASCII; anything else (a NUL, which PostgreSQL cannot compare) is simply not a key.
        api_key = api_key_for_token(token=token) if token.isascii() and token.isprintable() else None
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        api_key_touch(api_key=api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
