"""``prodserver --export dockerfile``: a Dockerfile hadolint passes without a single remark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from export_support import GOLDEN, export_example, export_testproject, read_tree

HADOLINT = Path(sys.executable).with_name("hadolint")


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False
    )


def test_the_example_dockerfile_matches_the_golden_files_and_lints_clean(tmp_path: Path) -> None:
    out = tmp_path / "image"
    result = export_example("dockerfile", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert read_tree(out) == read_tree(GOLDEN / "dockerfile")
    checked = lint(out / "Dockerfile")
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_exec_form_command_health_check_and_a_non_root_user() -> None:
    lines = (GOLDEN / "dockerfile" / "Dockerfile").read_text().splitlines()
    assert lines[-1] == 'CMD ["python", "manage.py", "prodserver", "web"]'
    assert lines[-2] == "STOPSIGNAL SIGTERM"
    assert '    CMD ["python", "manage.py", "prodserver", "--healthcheck", "web"]' in lines
    assert "USER 10001" in lines
    # The dependency layer comes before the code, so code changes keep it cached.
    assert lines.index("RUN pip install --no-cache-dir -r requirements.txt") < lines.index("COPY . .")
    assert ".env" in (GOLDEN / "dockerfile" / ".dockerignore").read_text().splitlines()


def test_collectstatic_runs_at_build_when_static_root_is_set(tmp_path: Path) -> None:
    processes = {
        "jobs": {"BACKEND": "django_prodserver.backends.command.ManagementCommand", "ARGS": ["check"]}
    }
    out = tmp_path / "image"
    result = export_testproject(
        processes, "dockerfile", "--output", str(out), settings={"STATIC_ROOT": "/app/static"}
    )
    assert result.returncode == 0, result.stderr
    dockerfile = (out / "Dockerfile").read_text()
    lines = dockerfile.splitlines()
    assert "RUN python manage.py collectstatic --noinput" in lines
    assert "/app/static" not in dockerfile
    # No web process: no health check, the first process is the command.
    assert not any(line.startswith("HEALTHCHECK") for line in lines)
    assert lines[-1] == 'CMD ["python", "manage.py", "prodserver", "jobs"]'
    checked = lint(out / "Dockerfile")
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
