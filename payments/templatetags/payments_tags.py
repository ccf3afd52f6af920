from django import template

register = template.Library()


@register.filter
def money(minor: int | None, currency: str = "") -> str:
    """Minor units as major: 123450 -> "1 234.50" (with the currency when given)."""
    if minor is None:
        return ""
    text = f"{minor / 100:,.2f}".replace(",", "\u00a0")
    return f"{currency} {text}" if currency else text
