"""The API docs page: the schema's descriptions are short Markdown (code spans, and the `* value - label` lists
drf-spectacular writes for enums). Only that much is turned into HTML; everything else is escaped."""

import re

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> SafeString:
    # re.split with a group: the code spans' contents are at the odd indices.
    parts = CODE_SPAN.split(text)
    return format_html_join(
        "", "{}", ((format_html("<code>{}</code>", part) if i % 2 else part,) for i, part in enumerate(parts))
    )


@register.filter
def markdown_lite(text: str | None) -> SafeString:
    """`code` spans to <code>, and a run of lines starting "* " to a <ul>; nothing else is interpreted."""
    blocks: list[SafeString] = []
    items: list[str] = []

    def close_list():
        if items:
            blocks.append(
                format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_inline(i),) for i in items)))
            )
            items.clear()

    for line in (text or "").splitlines():
        if line.startswith("* "):
            items.append(line[2:])
        else:
            close_list()
            blocks.append(_inline(line))
    close_list()
    return format_html_join("\n", "{}", ((block,) for block in blocks))
