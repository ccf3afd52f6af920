"""URL kwargs for the API-key pages, built from objects of one merchant (see tests/scoping.py)."""

from merchant_portal.api.models import ApiKey
from merchant_portal.api.services import api_key_create


def url_kwargs(merchant) -> dict[str, dict]:
    key, _ = api_key_create(merchant=merchant, actor=None, name="Scoping", access=ApiKey.Access.READ_ONLY)
    return {"api_key_list": {}, "api_key_create": {}, "api_key_revoke": {"pk": key.pk}}
