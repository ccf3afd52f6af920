"""The Procfile's web server keeps answering while POS devices long-poll for check-ins.

A long poll holds its request for up to API_LONG_POLL_SECONDS. With one request per worker process (gunicorn's
sync workers), two waiting tills would stop the portal's pages, the API and the Vipps webhook endpoint. This
starts the Procfile's `web` line through honcho, as `make run` does, with a single worker process, on its own
SQLite database, and proves that other requests are served while three polls wait, and that the polls answer
with a check-in written by another process.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.browser.test_make_run import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

SETUP = """
import json
from merchant_portal.api.models import ApiKey
from merchant_portal.api.services import api_key_create
from merchant_portal.tenancy.models import Merchant, SalesUnit
from qrcodes.models import Location
merchant = Merchant.objects.create(name="Vending", slug="vending")
unit = SalesUnit.objects.create(merchant=merchant, msn="424242", name="Machines", client_id="c", client_secret="s",
                                subscription_key="k")
location = Location.objects.create(sales_unit=unit, name="Machine 1")
_, token = api_key_create(merchant=merchant, actor=None, name="Machines", access=ApiKey.Access.READ_ONLY)
print(json.dumps({"token": token, "location": location.pk}))
"""

CHECK_IN = """
import hashlib
from datetime import timedelta
from django.utils import timezone
from payments.models import CheckIn
from qrcodes.models import Location
location = Location.objects.get(name="Machine 1")
now = timezone.now()
checkin = CheckIn.objects.create(sales_unit=location.sales_unit, location=location, customer_token="t",
                                 token_digest=hashlib.sha256(b"t").hexdigest(), initiated_at=now,
                                 expires_at=now + timedelta(minutes=15))
print(checkin.pk)
"""


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def web_server(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "CACHE_URL", "REDIS_", "DJANGO_ALLOW_ASYNC", "WEB_", "API_"))
    }
    env.update(VAR_DIR=str(tmp_path), WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1", PATH=f"{BIN}:{env['PATH']}")
    manage(env, "migrate", "--noinput")
    made = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    log = open(tmp_path / "web.log", "w")  # noqa: SIM115  (outlives this block: closed in finally)
    proc = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile", "web"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/accounts/login/", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()[-4000:]
                time.sleep(0.3)
        yield {"url": url, "env": env, **made}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_long_polls_do_not_hold_up_the_portal(web_server):
    url, headers = web_server["url"], {"Authorization": f"Bearer {web_server['token']}"}
    answers = []

    def poll():
        started = time.monotonic()
        response = requests.get(
            f"{url}/api/v1/checkins/next/",
            params={"location": web_server["location"], "timeout": 20},
            headers=headers,
            timeout=40,
        )
        answers.append((response.status_code, response.json() if response.content else None, started))

    polls = [threading.Thread(target=poll) for _ in range(3)]
    for thread in polls:
        thread.start()
    time.sleep(1.0)  # the three are waiting in the server now

    for path in ("/accounts/login/", "/api/v1/locations/"):
        started = time.monotonic()
        response = requests.get(f"{url}{path}", headers=headers, timeout=10)
        assert response.status_code == 200 and time.monotonic() - started < 3, (path, response.status_code)
    assert not answers, "a poll answered before any check-in"

    checkin_id = int(manage(web_server["env"], "shell", "-c", CHECK_IN).strip().splitlines()[-1])
    for thread in polls:
        thread.join(timeout=30)
    assert [(status, body["id"]) for status, body, _ in answers] == [(200, checkin_id)] * 3
