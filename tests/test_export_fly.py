"""``prodserver --export fly``: fly.toml, checked for structure (Fly has no offline validator)."""

from __future__ import annotations

from typing import Any

import pytest

from export_support import export_example, export_testproject, golden

tomllib = pytest.importorskip("tomllib")


def test_the_example_fly_toml_matches_the_golden_file() -> None:
    result = export_example("fly")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == golden("fly", "fly.toml")


def test_processes_release_command_stop_and_checks() -> None:
    config: dict[str, Any] = tomllib.loads(golden("fly", "fly.toml"))
    assert config["processes"] == {
        "web": "python manage.py prodserver web",
        "worker": "python manage.py prodserver worker",
    }
    assert config["deploy"] == {"release_command": "python manage.py prodserver release"}
    assert (config["kill_signal"], config["kill_timeout"]) == ("SIGTERM", 30)  # above the 25 s budget
    assert config["env"] == {"PORT": "8000"}
    (service,) = config["services"]
    assert (service["processes"], service["internal_port"]) == (["web"], 8000)
    (check,) = service["http_checks"]
    assert (check["path"], check["protocol"]) == ("/readyz/", "http")
    assert config["checks"]["web_alive"]["path"] == "/healthz/"


def test_signals_that_differ_are_named_and_the_longest_timeout_wins() -> None:
    processes = {
        "web": {"BACKEND": "django_prodserver.backends.uvicorn.UvicornServer", "STOP_SIGNAL": "SIGINT"},
        "jobs": {"BACKEND": "django_prodserver.backends.command.ManagementCommand", "ARGS": ["check"]},
    }
    settings = {"PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 60}}
    result = export_testproject(processes, "fly", settings=settings)
    assert result.returncode == 0, result.stderr
    assert (
        "# Fly sends one signal to every process; they ask for SIGINT, SIGTERM: web's wins.\n"
        in result.stdout
    )
    config = tomllib.loads(result.stdout)
    assert (config["kill_signal"], config["kill_timeout"]) == ("SIGINT", 65)
    assert "deploy" not in config
