"""Logging pieces for settings.LOGGING, which every process uses: web, relay, and (through the celery app's
``setup_logging`` receiver) the workers and beat."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo


class ZonedFormatter(logging.Formatter):
    """``asctime`` in one named time zone with its UTC offset (``2026-03-01 14:05:09.123+01:00``).

    Django sets the process's zone to TIME_ZONE only once the settings load, so a process's first lines (a
    gunicorn master, celery before its app is ready) would otherwise be stamped in another zone than the rest.
    """

    def __init__(self, fmt: str | None = None, *, time_zone: str = "UTC", **kwargs) -> None:
        super().__init__(fmt, **kwargs)
        self.zone = ZoneInfo(time_zone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = datetime.fromtimestamp(record.created, self.zone)
        if datefmt:
            return moment.strftime(datefmt)
        return moment.isoformat(sep=" ", timespec="milliseconds")


class RoutineTasks(logging.Filter):
    """Moves the INFO lines about routine beat tasks (sent, received, succeeded, discarded) to DEBUG.

    A task beat runs at least every ``at_least_every`` seconds is a heartbeat, not news: the webhook relay
    alone, every second, made a third of all lines. They are still there with LOG_LEVEL=DEBUG; warnings and
    errors about these tasks are untouched.
    """

    def __init__(self, beat_schedule: dict[str, dict] | None = None, at_least_every: float = 60.0) -> None:
        super().__init__()
        self.tasks = tuple(
            sorted(
                {
                    entry["task"]
                    for entry in (beat_schedule or {}).values()
                    if isinstance(entry.get("schedule"), int | float) and entry["schedule"] <= at_least_every
                }
            )
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("celery.") or not self.tasks:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a malformed call: let the handler report it as it would
            return True
        if not any(task in message for task in self.tasks):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
