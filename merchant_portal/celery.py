import os
from pathlib import Path
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import setup_logging, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchant_portal.settings")

app = Celery("merchant_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders() -> None:
    """The embedded file-system broker needs its folders to exist before any process publishes or consumes."""
    options = app.conf.broker_transport_options or {}
    if str(app.conf.broker_url).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


def named_broker_host(url: str | None) -> str | None:
    """The file-system transport has no host, but kombu's virtual transports assume "localhost" and warn "No
    hostname was supplied" on every connection when the URL names none (`filesystem://`): name it."""
    parts = urlsplit(url or "")
    return parts._replace(netloc="localhost").geturl() if parts.scheme == "filesystem" and not parts.hostname else url


_ensure_filesystem_broker_folders()
app.conf.broker_url = named_broker_host(app.conf.broker_url)


@setup_logging.connect
def _use_django_logging(**_) -> None:
    """Workers and beat log through settings.LOGGING, in the same format and time zone as the web and the relay
    (with a receiver here, celery leaves the root logger alone; `--loglevel` gives way to LOG_LEVEL)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_process_init.connect
def _leave_stopping_to_the_main_process(**_) -> None:
    """honcho, systemd and docker signal the whole process group on stop. A pool process that died of that
    SIGTERM mid-task was reported as an error ("exited with signal 15") and its task left for redelivery.
    In a group of its own it gets no signal but the main process's: warm shutdown lets it finish, cold
    shutdown and the hard time limit still end it, and celery's parent-death signal ends it with the main."""
    os.setpgid(0, 0)
