"""What `make run` starts (every Procfile process through honcho, on the embedded defaults) comes up healthy,
and the demo login reaches the demo merchant's dashboard in a real browser."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_product(tmp_path):
    web, sandbox = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "CACHE_URL", "REDIS_", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        VAR_DIR=str(tmp_path),
        WEB_BIND=f"127.0.0.1:{web}",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{web}",
        SANDBOX_PORT=str(sandbox),
        VIPPS_BASE_URL=f"http://127.0.0.1:{sandbox}",
        PATH=f"{BIN}:{env['PATH']}",
    )
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    log = open(tmp_path / "honcho.log", "w")  # noqa: SIM115  (outlives this block: closed in finally)
    proc = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield {
            "web": f"http://127.0.0.1:{web}",
            "sandbox": f"http://127.0.0.1:{sandbox}",
            "log": tmp_path / "honcho.log",
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def wait_healthy(url: str, log: Path, timeout: float = 60) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{url}/healthz", timeout=2)
            last = response.json()
            if response.status_code == 200:
                return last
        except (requests.RequestException, ValueError):  # not up yet, or too busy to answer in time
            pass
        time.sleep(0.5)
    raise AssertionError(f"not healthy in {timeout} s: {last}\n{log.read_text()[-4000:]}")


def test_make_run_serves_the_demo_merchant_with_every_process_up(running_product, page, shot):
    health = wait_healthy(running_product["web"], running_product["log"])
    assert health["database"]["ok"] and health["broker"]["ok"] and health["worker"]["ok"]
    assert requests.get(f"{running_product['sandbox']}/_sandbox/phone", timeout=5).status_code == 200

    page.goto(running_product["web"] + "/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("vipps-demo-2026")
    shot("login")
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("current-merchant").wait_for()
    assert page.get_by_test_id("current-merchant").inner_text() == "Demo Kiosk AS"
    assert page.get_by_test_id("sales-unit-count").inner_text() == "2"
    shot("dashboard")
