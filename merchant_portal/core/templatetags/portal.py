"""Template helpers available in every template (a builtin, see settings.TEMPLATES)."""

from django import template

from merchant_portal.core.i18n import format_money, machine_number

register = template.Library()


@register.filter
def money(minor: int | None, currency: str = "") -> str:
    """Minor units as money in the active language: `{{ payment.amount|money:payment.currency }}`."""
    return format_money(minor, currency)


@register.filter(is_safe=True)
def machine(value) -> str:
    """A number a machine reads, the same in every language: `width: {{ layout.image|machine }}mm`,
    `<rect x="{{ bar.x|machine }}">`, `data-checkin="{{ c.pk|machine }}"`. People's numbers stay localised."""
    return machine_number(value)
