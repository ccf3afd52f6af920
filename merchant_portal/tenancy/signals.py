from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from merchant_portal.core import i18n

from .selectors import user_language


@receiver(user_logged_in)
def restore_language(sender, request, user, **kwargs):
    """The language a user picked follows them to a new device: copied into the session at login."""
    language = user_language(user=user)
    if language and request is not None:
        request.session[i18n.SESSION_KEY] = language
