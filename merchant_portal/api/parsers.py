"""The API's one body parser: JSON decoded by the portal's strict decoder (`merchant_portal.core.jsonbody`), the
same rules as every other door, so a body the webhooks would refuse is refused here too, with the same reason."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from merchant_portal.core import jsonbody

from .exceptions import PayloadTooLarge


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # DRF hands over the request itself when nothing has read the body yet, and HttpRequest.read() has no
        # size limit of its own (only HttpRequest.body has): read at most one byte more than is allowed.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge()
        try:
            return jsonbody.loads(body)
        except jsonbody.BodyError as exc:
            raise ParseError(f"The body cannot be read: {exc}. Send UTF-8 JSON.") from None
