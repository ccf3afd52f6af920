from django import template

from merchant_portal.core.templatetags.portal import money

register = template.Library()
# `money` is a builtin now (merchant_portal.core.templatetags.portal); kept here for templates that load this.
register.filter("money", money)
