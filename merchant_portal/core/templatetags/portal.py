"""Template helpers available in every template (a builtin, see settings.TEMPLATES)."""

from django import template

from merchant_portal.core.i18n import format_money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str = "") -> str:
    """Minor units as money in the active language: `{{ payment.amount|money:payment.currency }}`."""
    return format_money(minor, currency)
