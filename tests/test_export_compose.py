"""``prodserver --export compose``: a compose.yaml the compose-spec JSON schema accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from export_support import export_example, export_testproject, golden

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_example_compose_file_matches_the_golden_file_and_the_schema(tmp_path: Path) -> None:
    result = export_example("compose")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == golden("compose", "compose.yaml")
    (tmp_path / "compose.yaml").write_text(result.stdout)
    checked = validate(tmp_path / "compose.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_release_runs_first_and_stops_wait_longer_than_the_graceful_budget() -> None:
    services: dict[str, Any] = yaml.safe_load(golden("compose", "compose.yaml"))["services"]
    assert list(services) == ["release", "web", "worker"]
    assert services["release"]["command"] == ["python", "manage.py", "prodserver", "release"]
    for name in ("web", "worker"):
        assert services[name]["command"] == ["python", "manage.py", "prodserver", name]
        assert services[name]["depends_on"] == {"release": {"condition": "service_completed_successfully"}}
        assert services[name]["stop_signal"] == "SIGTERM"
        assert services[name]["stop_grace_period"] == "30s"
    assert services["web"]["healthcheck"]["test"] == [
        "CMD", "python", "manage.py", "prodserver", "--healthcheck", "web",
    ]  # fmt: skip
    assert services["release"]["healthcheck"] == {"disable": True}


def test_a_worker_service_checks_its_heartbeat_timed_from_the_health_setting() -> None:
    services: dict[str, Any] = yaml.safe_load(golden("compose", "compose.yaml"))["services"]
    assert services["worker"]["healthcheck"] == {
        "test": ["CMD", "python", "manage.py", "prodserver", "--healthcheck", "worker"],
        "interval": "15s",  # half of HEARTBEAT_MAX_AGE (30 s by default)
        "timeout": "10s",
        "retries": 2,
        "start_period": "30s",
    }


def test_configured_heartbeat_timings_reach_the_worker_healthcheck(tmp_path: Path) -> None:
    processes = {
        "jobs": {"BACKEND": "django_prodserver.backends.celery.CeleryWorker", "APP": "testproject.celery.app"}
    }
    settings = {"PRODSERVER_HEALTH": {"HEARTBEAT_INTERVAL": 10, "HEARTBEAT_MAX_AGE": 45}}
    result = export_testproject(processes, "compose", settings=settings)
    assert result.returncode == 0, result.stderr
    jobs = yaml.safe_load(result.stdout)["services"]["jobs"]
    assert jobs["healthcheck"] == {
        "test": ["CMD", "python", "manage.py", "prodserver", "--healthcheck", "jobs"],
        "interval": "23s",
        "timeout": "10s",
        "retries": 2,
        "start_period": "45s",
    }
    assert (
        "#   liveness: 'prodserver --healthcheck jobs' every 23 s, unhealthy after 2 failed probes, "
        "the first counted after 45 s (HEARTBEAT_MAX_AGE 45 s)\n"
    ) in result.stdout
    (tmp_path / "compose.yaml").write_text(result.stdout)
    checked = validate(tmp_path / "compose.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_project_without_one_shots_has_no_release_service(tmp_path: Path) -> None:
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
            "ARGS": {"host": "0.0.0.0", "port": "9000"},
            "STOP_SIGNAL": "SIGINT",
        }
    }
    result = export_testproject(processes, "compose")
    assert result.returncode == 0, result.stderr
    web = yaml.safe_load(result.stdout)["services"]["web"]
    assert "depends_on" not in web
    assert (web["stop_signal"], web["ports"], web["environment"]) == (
        "SIGINT",
        ["9000:9000"],
        {"PORT": "9000"},
    )
    (tmp_path / "compose.yaml").write_text(result.stdout)
    checked = validate(tmp_path / "compose.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
