import re

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from .fields import INT64_MAX

POSITION = re.compile(r"[0-9]{1,19}")
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class IdCursorPagination(CursorPagination):
    """Newest first, by id: stable under inserts, and each page is one indexed range scan.

    A cursor or page size the API did not give out is a 400 naming the parameter: DRF answers a garbled cursor
    with 404, and passes a well-formed one whose position is not an id straight to the database (a 500).
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        try:
            # b64decode skips characters outside its alphabet: "\x00" would otherwise be the first page.
            if encoded is not None and not BASE64.fullmatch(encoded):
                raise NotFound()
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            position = cursor.position if cursor else None
            valid = position is None or (POSITION.fullmatch(position) is not None and int(position) <= INT64_MAX)
        if not valid:
            raise ValidationError(
                {self.cursor_query_param: ["Not a cursor this API gave out: follow the `next` or `previous` link."]}
            )
        return cursor

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Send a whole number from 1 to {self.max_page_size}."]}
            )
        return int(value)
