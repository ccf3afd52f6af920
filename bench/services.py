"""Throwaway services for the benchmarks: a free loopback port, a PostgreSQL cluster and a Redis, each started in
a temporary folder and stopped by the function returned with it."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, tries: int = 100, pause: float = 0.05) -> None:
    """Until something accepts connections on the loopback port (or the tries run out)."""
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(pause)


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_postgres(tmp: Path, options: str = "") -> tuple[str, callable]:
    """A cluster in tmp/pg with a database `portal`: its URL and its stop function. `options`: more `-c` settings
    for the server (the default durability when empty)."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data, port = tmp / "pg", free_port()
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(data, "postgres")

    def run(*args):
        return subprocess.run(as_postgres(list(args)), check=True, capture_output=True)

    run(str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 {options}".strip()
    run(str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(tmp / "pg.log"), "-w", "-o", opts, "start")
    run(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "portal")
    return f"postgres://postgres@127.0.0.1:{port}/portal", lambda: run(
        str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"
    )


def start_redis(tmp: Path) -> tuple[str, callable, int]:
    """A Redis with an append-only file in tmp (as a broker is run): its URL, its stop function and its pid."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
         "--dir", str(tmp), "--logfile", str(tmp / "redis.log")],
    )  # fmt: skip
    wait_for_port(port)

    def stop():
        proc.terminate()
        proc.wait(timeout=10)

    return f"redis://127.0.0.1:{port}", stop, proc.pid
