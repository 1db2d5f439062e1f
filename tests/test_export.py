"""``prodserver --export``: what every format shares (errors, --output, --check, determinism)."""

from __future__ import annotations

from pathlib import Path

from export_support import export_example, export_testproject, golden, read_tree

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
