"""``prodserver --export render``: render.yaml, checked for structure.

Render publishes its Blueprint JSON schema only on its website, which the tests cannot reach
and whose licence is not stated with it, so it is not vendored here; these tests check the
fields Render's Blueprint reference documents instead.
"""

from __future__ import annotations

from typing import Any

import yaml

from export_support import export_example, export_testproject, golden

#: The service fields the exporter writes, all documented in Render's Blueprint reference.
KNOWN = {
    "type", "name", "runtime", "buildCommand", "startCommand", "preDeployCommand",
    "healthCheckPath", "maxShutdownDelaySeconds",
}  # fmt: skip


def test_the_example_render_yaml_matches_the_golden_file() -> None:
    result = export_example("render")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == golden("render", "render.yaml")


def test_services_pre_deploy_command_and_health_check() -> None:
    blueprint: dict[str, Any] = yaml.safe_load(golden("render", "render.yaml"))
    assert list(blueprint) == ["services"]
    web, worker = blueprint["services"]
    assert set(web) | set(worker) <= KNOWN
    assert (web["type"], web["name"], web["startCommand"]) == (
        "web",
        "web",
        "python manage.py prodserver web",
    )
    assert web["preDeployCommand"] == "python manage.py prodserver release"
    assert web["healthCheckPath"] == "/healthz/"
    assert web["maxShutdownDelaySeconds"] == 30  # above the 25 s graceful budget
    assert (worker["type"], worker["startCommand"]) == ("worker", "python manage.py prodserver worker")
    assert "preDeployCommand" not in worker
    assert "healthCheckPath" not in worker


def test_a_stop_signal_render_cannot_send_is_said_and_the_delay_is_capped() -> None:
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
            "ARGS": {"timeout-graceful-shutdown": 600},
            "STOP_SIGNAL": "SIGINT",
        },
    }
    settings = {"STATIC_ROOT": "/srv/static"}
    result = export_testproject(processes, "render", settings=settings)
    assert result.returncode == 0, result.stderr
    assert "# web: Render stops instances with SIGTERM, not SIGINT\n" in result.stdout
    (web,) = yaml.safe_load(result.stdout)["services"]
    assert web["maxShutdownDelaySeconds"] == 300
    assert (
        web["buildCommand"] == "pip install -r requirements.txt && python manage.py collectstatic --noinput"
    )
