"""The public API docs: no programmer's note from a base class as a description, Markdown code spans rendered."""

import re

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st

from merchant_portal.api.base import FlatReadMixin
from merchant_portal.api.idempotency import IdempotentMixin
from merchant_portal.api.templatetags.api_docs import markdown_lite


def descriptions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            yield from descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from descriptions(value)


def test_no_internal_docstring_is_a_public_description():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    internal = {IdempotentMixin.__doc__.split("\n")[0].strip(), FlatReadMixin.__doc__.split("\n")[0].strip()}
    leaked = [d for d in descriptions(schema) if any(note in d for note in internal) or "to_representation" in d]
    assert not leaked


@pytest.mark.django_db
def test_the_docs_page_renders_code_spans_and_enum_lists(client):
    page = client.get(reverse("api:docs")).content.decode()
    # Literal backticks are left only inside example bodies, which are shown verbatim.
    outside_examples = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)
    assert "`" not in outside_examples
    assert "<code>Authorization: Bearer &lt;API key&gt;</code>" in page
    assert "<li><code>IN_STORE</code> - In store</li>" in page


def test_markdown_lite():
    assert markdown_lite("send `a<b>` now") == "send <code>a&lt;b&gt;</code> now"
    assert markdown_lite("Kinds:\n* `x` - X\n* `y` - Y\nEnd") == (
        "Kinds:\n<ul><li><code>x</code> - X</li><li><code>y</code> - Y</li></ul>\nEnd"
    )
    assert markdown_lite(None) == "" and markdown_lite("a ` b") == "a ` b"


@given(st.text(max_size=200))
def test_markdown_lite_makes_no_markup_but_its_own(text):
    html = str(markdown_lite(text))
    assert "<" not in re.sub(r"</?(code|ul|li)>", "", html)
    assert html.count("<code>") == html.count("</code>") and html.count("<ul>") == html.count("</ul>")
