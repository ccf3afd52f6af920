"""What /healthz reports: can we reach the database and the broker, is a worker alive, and is anything
quarantined (a warning: it never turns /healthz 503, see check_quarantine)?"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from merchant_portal.celery import app as celery_app

from .models import Heartbeat

logger = logging.getLogger(__name__)

# name -> a callable returning how many items of that source are quarantined. Filled by each app's
# AppConfig.ready(), so core never imports the apps that own the items.
_QUARANTINE_SOURCES: dict[str, Callable[[], int]] = {}


def register_quarantine_source(name: str, count: Callable[[], int]) -> None:
    _QUARANTINE_SOURCES[name] = count


@dataclass
class Check:
    ok: bool
    detail: str
    warning: bool = False
    counts: dict[str, int] | None = None

    def as_dict(self) -> dict:
        result = {"ok": self.ok, "detail": self.detail}
        if self.counts is not None:
            result |= {"warning": self.warning, "counts": self.counts}
        return result


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy", and the page must still answer
        return Check(False, f"{type(exc).__name__}")
    return Check(True, connection.vendor)


def check_broker() -> Check:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}")
    return Check(True, str(transport))


def check_worker() -> Check:
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}")
    if beat is None:
        return Check(False, "no heartbeat yet")
    age = (timezone.now() - beat.at).total_seconds()
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return Check(False, f"last heartbeat {int(age)} s ago")
    return Check(True, f"last heartbeat {int(age)} s ago")


def check_quarantine() -> Check:
    """Items set aside after repeated failures. A warning, never "unhealthy": this host serves fine, and a load
    balancer that pulled every web host for one poison webhook would turn one bad item into an outage. Someone
    has to look at the event log and replay after a fix; monitoring alerts on `warning`."""
    counts = {}
    for name, count in sorted(_QUARANTINE_SOURCES.items()):
        try:
            counts[name] = int(count())
        except Exception as exc:  # the database check reports an outage; this one must still answer
            logger.warning("quarantine count of %s failed: %s", name, type(exc).__name__)
            counts[name] = -1
    total = sum(n for n in counts.values() if n > 0)
    if total:
        detail = f"{total} quarantined: " + ", ".join(f"{name} {n}" for name, n in counts.items() if n > 0)
    else:
        detail = "nothing quarantined"
    return Check(True, detail, warning=bool(total), counts=counts)


def health_report() -> tuple[bool, dict]:
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    healthy = all(c.ok for c in checks.values())
    quarantine = check_quarantine()
    status = "unhealthy" if not healthy else "warning" if quarantine.warning else "ok"
    return healthy, {
        "status": status,
        **{k: c.as_dict() for k, c in checks.items()},
        "quarantine": quarantine.as_dict(),
    }
