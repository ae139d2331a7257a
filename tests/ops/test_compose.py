"""docker-compose.yml read as the deployment it describes (no Docker engine here): its shape and its commands."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _shell(service: dict) -> str:
    command = service["command"]
    return command[2] if command[:2] == ["sh", "-c"] else shlex.join(command)


def test_every_service_has_a_health_check_and_every_volume_is_declared() -> None:
    document = yaml.safe_load(COMPOSE.read_text())
    services = document["services"]
    assert set(services) == {"postgres", "api", "worker", "backup"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in document["volumes"], f"{name}: volume {volume} is not declared"
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "archive_mode=on" in _shell(services["postgres"])


def test_the_api_migrates_once_then_serves_with_several_processes() -> None:
    api = _shell(_services()["api"])
    assert api.index("fieldcrm migrate") < api.index("fieldcrm serve")
    assert "--migrate" not in api  # not once per process
    workers = re.search(r"--workers \$\{FIELDCRM_API_PROCESSES:-(\d+)\}", api)
    assert workers and int(workers.group(1)) > 1


def test_the_backup_job_dumps_on_a_schedule_into_its_volume() -> None:
    backup = _services()["backup"]
    script = _shell(backup)
    assert "pg_dump -Fc" in script and "sleep" in script and "pg_restore --list" in script
    assert any(v.endswith(":/backups") for v in backup["volumes"])


def test_every_fieldcrm_command_the_services_run_exists() -> None:
    used = set()
    for service in _services().values():
        used.update(re.findall(r"fieldcrm ((?:serve|migrate|worker|vapid|backup|restore|\w+))", _shell(service)))
    assert used == {"vapid", "migrate", "serve", "worker"}
    for sub in used:
        r = subprocess.run(
            [sys.executable, "-m", "fieldcrm.cli", sub, "--help"], capture_output=True, text=True, check=False
        )
        assert r.returncode == 0, r.stderr
    serve = subprocess.run(
        [sys.executable, "-m", "fieldcrm.cli", "serve", "--help"], capture_output=True, text=True, check=False
    )
    assert "--workers" in serve.stdout
