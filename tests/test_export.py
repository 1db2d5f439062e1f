"""``prodserver --export``: what every format shares (errors, --output, --check, determinism)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from export_support import export_example, export_testproject, golden, read_tree
from harness import run_manage
from in_process import configured
from worker_support import CELERY_APP

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
PROCESSES = {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}}}


def test_an_unknown_format_is_one_line_naming_the_formats() -> None:
    result = export_testproject(PROCESSES, "heroku")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "CommandError: Unknown export format 'heroku'; use one of procfile, systemd, compose, "
        "kubernetes, dockerfile, supervisord, fly, render.\n"
    )


def test_an_unknown_name_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    result = export_testproject(PROCESSES, "procfile", "wbe", "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert (
        result.stderr == "CommandError: No process named 'wbe' in PRODUCTION_PROCESSES; configured: 'web'.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_directory_with_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = export_testproject(PROCESSES, "procfile", "--output", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: --output {str(tmp_path)!r} already holds other files (notes.txt); "
        "export into an empty or new directory.\n"
    )
    assert read_tree(tmp_path) == {"notes.txt": "mine"}


def test_an_output_that_is_a_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "Procfile"
    target.write_text("web: mine\n")
    result = export_testproject(PROCESSES, "procfile", "--output", str(target))
    assert (result.returncode, result.stderr) == (
        1,
        f"CommandError: --output {str(target)!r} is a file; give a directory.\n",
    )
    assert target.read_text() == "web: mine\n"


def test_an_output_nothing_can_be_written_to_is_one_line() -> None:
    result = export_testproject(PROCESSES, "procfile", "--output", "/proc/prodserver-tests/out")
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: --output '/proc/prodserver-tests/out': cannot write there (No such file or "
        "directory); choose a directory you can write to.\n",
    )


def test_output_without_export_is_refused_before_anything_starts() -> None:
    result = run_manage("prodserver", "web", "--output", "/tmp/prodserver-tests-out", processes=PROCESSES)
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: --output goes with --export: 'prodserver --export FORMAT --output DIR'.\n",
    )


def test_options_for_the_program_are_refused() -> None:
    result = export_testproject(PROCESSES, "procfile", "web", "--workers=8")
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: --export writes what PRODUCTION_PROCESSES says; '--workers=8' would not be "
        "in the files: put it in the process' ARGS instead.\n"
    )


def test_output_writes_then_rewrites_a_previous_export(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    first = export_example("procfile", "--output", str(out))
    assert (first.returncode, first.stdout, first.stderr) == (0, f"{out}: wrote Procfile.\n", "")
    assert read_tree(out) == {"Procfile": golden("procfile", "Procfile")}
    again = export_example("procfile", "--output", str(out))
    assert again.returncode == 0, again.stderr
    assert read_tree(out) == {"Procfile": golden("procfile", "Procfile")}
    assert [p.name for p in tmp_path.iterdir()] == ["deploy"]  # no staging directory left


def test_check_passes_on_a_fresh_export_and_fails_once_stale(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert export_example("procfile", "--output", str(out)).returncode == 0
    fresh = export_example("procfile", "--output", str(out), "--check")
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (0, f"{out}: up to date (Procfile).\n", "")
    (out / "Procfile").write_text("web: gunicorn config.wsgi\n")
    stale = export_example("procfile", "--output", str(out), "--check")
    assert stale.returncode == 1
    assert stale.stderr == (
        f"CommandError: {out} is stale (changed: Procfile); run "
        f"'manage.py prodserver --export procfile --output {out}' and commit the result.\n"
    )
    assert (out / "Procfile").read_text() == "web: gunicorn config.wsgi\n"


def test_check_needs_a_directory() -> None:
    result = export_testproject(PROCESSES, "procfile", "--check")
    assert result.returncode == 1
    assert (
        result.stderr == "CommandError: --export procfile --check compares a directory: add --output DIR.\n"
    )


def test_named_processes_only() -> None:
    processes = {**PROCESSES, "other": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8001"}}}
    result = export_testproject(processes, "procfile", "other")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("#")] == [
        "other: python manage.py prodserver other"
    ]


def test_nothing_secret_is_written() -> None:
    """ARGS and environment values stay in the settings: only process names reach the files."""
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000", "keyfile": "/secret/key.pem"}}}
    result = export_testproject(processes, "procfile")
    assert result.returncode == 0, result.stderr
    assert "secret" not in result.stdout


def test_check_names_a_file_the_export_no_longer_writes(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert export_example("procfile", "--output", str(out)).returncode == 0
    (out / "old.service").write_text("[Unit]\n")
    stale = export_example("procfile", "--output", str(out), "--check")
    assert stale.returncode == 1
    assert stale.stderr == (
        f"CommandError: {out} is stale (changed: old.service); run "
        f"'manage.py prodserver --export procfile --output {out}' and commit the result.\n"
    )


def test_a_process_the_checks_reject_is_not_exported(tmp_path: Path) -> None:
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"backlg": 2}}}
    result = export_testproject(processes, "procfile", "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: Process 'web': ARGS key 'backlg' is not a gunicorn option; did you mean 'backlog'?\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("django_project")
def test_the_stop_timeout_covers_each_process_own_graceful_budget_and_drain() -> None:
    """What ARGS (or the worker's shutdown) give work in flight, not a budget assumed for all."""
    from django_prodserver.export.facts import project

    processes = {
        "gunicorn": {"BACKEND": "gunicorn", "ARGS": {"graceful-timeout": 60}, "DRAIN": 10},
        "uvicorn": {"BACKEND": "uvicorn", "ARGS": {"timeout-graceful-shutdown": "40"}},
        "hypercorn": {"BACKEND": "hypercorn", "ARGS": {"graceful-timeout": 50}},
        "granian": {"BACKEND": "granian-asgi", "ARGS": {"workers-kill-timeout": 45}},
        "waitress": {"BACKEND": "waitress"},
        "soft": {"BACKEND": "celery-worker", "APP": CELERY_APP},
        "warm": {"BACKEND": "celery-worker", "APP": CELERY_APP, "SHUTDOWN": "warm"},
    }
    with configured(processes):
        facts = {p.name: p for p in project().processes}
    assert {name: (p.graceful_seconds, p.stop_seconds) for name, p in facts.items()} == {
        "gunicorn": (60, 75),  # 10 s drain + 60 s + 5 s margin
        "uvicorn": (40, 45),
        "hypercorn": (50, 55),
        "granian": (45, 50),
        "waitress": (25, 30),  # prodserver stops waitress itself, within 25 s
        "soft": (20, 25),  # SHUTDOWN 'soft': worker_soft_shutdown_timeout 20 s
        "warm": (25, 30),  # running tasks take however long: nothing to read, the default
    }
    assert facts["gunicorn"].provenance[1] == (
        "  stop signal SIGTERM (the default); SIGKILL after 75 s = 10 s drain + 60 s graceful "
        "(ARGS['graceful-timeout']) + 5 s margin"
    )
    assert facts["warm"].provenance[1] == (
        "  stop signal SIGTERM (the default); SIGKILL after 30 s = 25 s graceful (prodserver's default "
        "graceful budget: celery worker sets no bound prodserver reads) + 5 s margin"
    )


def test_the_graceful_timeout_in_args_reaches_the_platform_files(tmp_path: Path) -> None:
    processes = {"web": {"BACKEND": "gunicorn", "ARGS": {"graceful-timeout": 60}}}
    result = export_testproject(processes, "compose")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["services"]["web"]["stop_grace_period"] == "65s"
    out = tmp_path / "k8s"
    assert export_testproject(processes, "kubernetes", "--output", str(out)).returncode == 0
    deployment = next(yaml.safe_load_all((out / "web.yaml").read_text()))
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 70  # + 5 s preStop


def test_this_shells_platform_variables_do_not_reach_the_files() -> None:
    """The files are for another machine: the same settings export the same bytes."""
    processes = {
        "web": {"BACKEND": "gunicorn"},
        "api": {"BACKEND": "uvicorn", "ARGS": {"host": "0.0.0.0"}},
        "ws": {"BACKEND": "granian-asgi", "ARGS": {"host": "0.0.0.0"}},
    }
    plain = export_testproject(processes, "compose")
    assert plain.returncode == 0, plain.stderr
    # The contract's variables, and each program's own, which it reads on that machine itself.
    variables = {
        "PORT": "1234",
        "WEB_CONCURRENCY": "3",
        "FORWARDED_ALLOW_IPS": "10.0.0.1",
        "GUNICORN_CMD_ARGS": "--workers 7 --graceful-timeout 99",
        "UVICORN_WORKERS": "5",
        "GRANIAN_WORKERS": "6",
    }
    shell = export_testproject(processes, "compose", env=variables)
    assert (shell.returncode, shell.stderr, shell.stdout) == (0, "", plain.stdout)
    services = yaml.safe_load(plain.stdout)["services"]
    # ARGS leave the port to PORT, which the file sets: the container binds 0.0.0.0 there.
    assert [services[name]["ports"] for name in ("web", "api", "ws")] == [["8000:8000"]] * 3
    assert "loopback" not in plain.stdout


@pytest.mark.usefixtures("django_project")
def test_the_role_is_the_backends_kind_even_without_an_address() -> None:
    """Flower answers HTTP (a server) though prodserver knows no address it serves the probes on."""
    from django_prodserver.export import render
    from django_prodserver.export.facts import project

    processes = {
        "flower": {"BACKEND": "celery-flower", "APP": CELERY_APP},
        "beat": {"BACKEND": "celery-beat", "APP": CELERY_APP},
    }
    with configured(processes):
        facts = project().processes
        blueprint = yaml.safe_load(render("render")["render.yaml"])
    assert [(p.name, p.role, p.port) for p in facts] == [("flower", "web", None), ("beat", "worker", None)]
    assert [(s["name"], s["type"], "healthCheckPath" in s) for s in blueprint["services"]] == [
        ("flower", "web", False),
        ("beat", "worker", False),
    ]
