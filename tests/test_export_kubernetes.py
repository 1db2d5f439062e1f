"""``prodserver --export kubernetes``: manifests ``kubernetes-validate --strict`` accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from export_support import GOLDEN, export_example, export_testproject, read_tree

VALIDATE = Path(sys.executable).with_name("kubernetes-validate")
RESOURCES = ["release.yaml", "web.yaml", "worker.yaml"]


def validate(directory: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VALIDATE), "--strict", "--quiet", *names],
        capture_output=True,
        text=True,
        cwd=directory,
        check=False,
    )


def documents(directory: Path, name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((directory / name).read_text()))


def test_the_example_manifests_match_the_golden_files_and_validate_strictly(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    result = export_example("kubernetes", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert read_tree(out) == read_tree(GOLDEN / "kubernetes")
    checked = validate(out, RESOURCES)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_probes_grace_period_and_the_release_job() -> None:
    golden = GOLDEN / "kubernetes"
    deployment, service = documents(golden, "web.yaml")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 35  # 5 s preStop + 25 s graceful + 5 s margin
    (web,) = pod["containers"]
    assert web["command"] == ["python", "manage.py", "prodserver", "web"]
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz/", "port": "http", "scheme": "HTTP"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz/", "port": "http", "scheme": "HTTP"}
    assert web["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}
    assert web["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (worker,) = documents(golden, "worker.yaml")
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    (job,) = documents(golden, "release.yaml")
    assert job["kind"] == "Job"
    assert "livenessProbe" not in job["spec"]["template"]["spec"]["containers"][0]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python", "manage.py", "prodserver", "release",
    ]  # fmt: skip
    (kustomization,) = documents(golden, "kustomization.yaml")
    assert kustomization["resources"] == RESOURCES
    assert kustomization["images"] == [{"name": "app", "newName": "example"}]


def test_a_worker_has_an_exec_liveness_probe_on_its_heartbeat_and_no_readiness_probe() -> None:
    (worker,) = documents(GOLDEN / "kubernetes", "worker.yaml")
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"] == {
        "exec": {"command": ["python", "manage.py", "prodserver", "--healthcheck", "worker"]},
        "initialDelaySeconds": 30,  # HEARTBEAT_MAX_AGE (30 s by default)
        "periodSeconds": 15,  # half of it
        "timeoutSeconds": 10,
        "failureThreshold": 2,
    }
    assert "readinessProbe" not in container
    assert "startupProbe" not in container
    # The heartbeat's default directory is under /tmp: an emptyDir keeps it writable.
    assert container["volumeMounts"] == [{"name": "heartbeat", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "heartbeat", "emptyDir": {}}]


def test_configured_heartbeat_settings_reach_the_worker_probe_and_volume(tmp_path: Path) -> None:
    processes = {
        "jobs": {"BACKEND": "django_prodserver.backends.celery.CeleryWorker", "APP": "testproject.celery.app"}
    }
    settings = {
        "PRODSERVER_HEALTH": {
            "HEARTBEAT_INTERVAL": 10,
            "HEARTBEAT_MAX_AGE": 45,
            "HEARTBEAT_DIR": "/var/run/prodserver",
        }
    }
    out = tmp_path / "k8s"
    result = export_testproject(processes, "kubernetes", "--output", str(out), settings=settings)
    assert result.returncode == 0, result.stderr
    (deployment,) = documents(out, "jobs.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"] == {
        "exec": {"command": ["python", "manage.py", "prodserver", "--healthcheck", "jobs"]},
        "initialDelaySeconds": 45,
        "periodSeconds": 23,
        "timeoutSeconds": 10,
        "failureThreshold": 2,
    }
    assert container["volumeMounts"] == [{"name": "heartbeat", "mountPath": "/var/run/prodserver"}]
    assert pod["volumes"] == [{"name": "heartbeat", "emptyDir": {}}]
    checked = validate(out, ["jobs.yaml"])
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_configured_probe_paths_and_tls_reach_the_probes(tmp_path: Path) -> None:
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
            "ARGS": {
                "host": "0.0.0.0",
                "port": "8443",
                "ssl-certfile": "/certs/c.pem",
                "ssl-keyfile": "/certs/k.pem",
            },
        }
    }
    settings = {"PRODSERVER_HEALTH": {"LIVENESS_PATH": "/-/alive/", "READINESS_PATH": "/-/ready/"}}
    out = tmp_path / "k8s"
    result = export_testproject(processes, "kubernetes", "--output", str(out), settings=settings)
    assert result.returncode == 0, result.stderr
    deployment, _ = documents(out, "web.yaml")
    (web,) = deployment["spec"]["template"]["spec"]["containers"]
    assert web["livenessProbe"]["httpGet"] == {"path": "/-/alive/", "port": "http", "scheme": "HTTPS"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/-/ready/", "port": "http", "scheme": "HTTPS"}
    assert web["ports"] == [{"name": "http", "containerPort": 8443}]
    assert "volumeMounts" not in web
    assert "volumes" not in deployment["spec"]["template"]["spec"]
    assert "/certs" not in (out / "web.yaml").read_text()
    checked = validate(out, ["web.yaml"])
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_a_drain_replaces_the_prestop_sleep(tmp_path: Path) -> None:
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
            "ARGS": {"bind": "0.0.0.0:8000"},
            "DRAIN": 10,
        }
    }
    out = tmp_path / "k8s"
    result = export_testproject(processes, "kubernetes", "--output", str(out))
    assert result.returncode == 0, result.stderr
    deployment, _ = documents(out, "web.yaml")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 40  # 10 s drain + 25 s graceful + 5 s margin
    assert "lifecycle" not in pod["containers"][0]
    checked = validate(out, ["web.yaml"])
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
