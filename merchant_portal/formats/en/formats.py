"""English as the portal writes it for Nordic merchants: British day-month order and a 24-hour clock
(Django's "en" is American: "01/31/2025 3:04 p.m."). Money already follows en_GB (core.i18n)."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
