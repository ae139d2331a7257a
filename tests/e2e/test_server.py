"""The console script end to end: migrate, add a user, serve over real HTTP, sign in."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fieldcrm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fieldcrm"), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def server_env() -> dict[str, str]:
    return {**os.environ, "FIELDCRM_NEW_PASSWORD": "a long password"}


def test_cli_sets_up_and_serves_over_http(server_env):
    migrated = _fieldcrm("migrate", env=server_env)
    assert migrated.returncode == 0, migrated.stderr
    added = _fieldcrm("user", "add", "boss", "--role", "hq_admin", "--name", "老板", env=server_env)
    assert added.returncode == 0, added.stderr
    assert "created boss (hq_admin)" in added.stdout
    duplicate = _fieldcrm("user", "add", "boss", env=server_env)
    assert duplicate.returncode != 0
    assert "taken" in duplicate.stderr

    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "fieldcrm"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = client.get("/health")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                    assert time.monotonic() < deadline, "server did not start within 30 s"
                    time.sleep(0.2)
            assert health.status_code == 200
            assert health.json()["database"] == "ok"
            login = client.post("/api/auth/login", json={"username": "boss", "password": "a long password"})
            assert login.status_code == 200, login.text
            me = client.get("/api/me")  # the cookie the server set carries the session
            assert me.json()["user"]["displayName"] == "老板"
            schema = (client.get("/schema/openapi.json")).json()
            assert "/api/accounts/{account_id}/overview" in schema["paths"]
            docs = client.get("/schema")
            assert docs.status_code == 200 and "<html" in docs.text.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
