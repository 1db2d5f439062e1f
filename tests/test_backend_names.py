"""Short backend names (``"BACKEND": "gunicorn"``) and backends other packages register.

A plug-in is installed the way pip installs one: a ``*.dist-info`` directory with an
``entry_points.txt`` next to its module, on the path of the real ``manage.py``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from django_prodserver.backends import names
from django_prodserver.backends.base import BaseProcessBackend
from harness import TESTS_DIR, Child, child_env, free_port, run_manage


@pytest.mark.parametrize("name", list(names.BUILTIN))
def test_every_name_stands_for_a_backend_class(name: str) -> None:
    module, _, attr = names.BUILTIN[name].rpartition(".")
    cls = getattr(importlib.import_module(module), attr)
    assert issubclass(cls, BaseProcessBackend)
    assert names.name_of(names.BUILTIN[name]) == name


def test_a_short_name_serves_a_page() -> None:
    port = free_port()
    processes = {"web": {"BACKEND": "waitress", "ARGS": {"host": "127.0.0.1", "port": port}}}
    child = Child(["prodserver", "web"], child_env(processes))
    try:
        response = child.wait_http(f"http://127.0.0.1:{port}/")
        assert (response.status, response.text) == (200, "hello from testproject")
    finally:
        child.kill_group()


def test_list_and_dry_run_show_both_spellings() -> None:
    processes = {
        "web": {"BACKEND": "gunicorn"},
        "site": {"BACKEND": "django_prodserver.backends.waitress.WaitressServer"},
    }
    result = run_manage("prodserver", "--list", processes=processes)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[::2] == [
        "web  gunicorn (django_prodserver.backends.gunicorn.GunicornServer)",
        "site  django_prodserver.backends.waitress.WaitressServer (waitress)",
    ]
    result = run_manage("prodserver", "site", "--dry-run", processes=processes)
    assert result.stderr == "site: BACKEND django_prodserver.backends.waitress.WaitressServer (waitress)\n"


@pytest.mark.parametrize(
    ("backend", "hint"),
    [
        ("gunicron", "did you mean 'gunicorn' or 'uvicorn'?"),
        ("celery", "did you mean 'celery-beat', 'celery-worker' or 'celery-flower'?"),
        (
            "frobnicator",
            "use a backend name such as 'gunicorn' or a dotted path; docs/configuration.md lists them.",
        ),
    ],
)
def test_an_unknown_name_is_one_line_with_did_you_mean(backend: str, hint: str) -> None:
    result = run_manage("prodserver", "web", processes={"web": {"BACKEND": backend}})
    assert (result.returncode, result.stderr) == (
        1,
        f"CommandError: Process 'web': BACKEND {backend!r} is not a backend name; {hint}\n",
    )
    assert run_manage("check", processes={"web": {"BACKEND": backend}}).returncode == 1


# ----- a plug-in: a backend another package registers under django_prodserver.backends ------------

PLUGIN = """
import sys

from django_prodserver.backends.base import BaseWorkerBackend


class QueueWorker(BaseWorkerBackend):
    program = "queue-worker"

    def start_server(self, *args):
        print("queue worker started with", *args)
        sys.stdout.flush()
"""


@pytest.fixture
def plugin(tmp_path: Path) -> dict[str, str]:
    """``prodserver-queue`` 1.0 installed into ``tmp_path``; the environment that sees it."""
    (tmp_path / "prodserver_queue.py").write_text(PLUGIN)
    info = tmp_path / "prodserver_queue-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: prodserver-queue\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[django_prodserver.backends]\nqueue = prodserver_queue:QueueWorker\n"
    )
    paths = [str(tmp_path), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(filter(None, paths))}


def test_a_plugin_backend_runs_by_its_name(plugin: dict[str, str]) -> None:
    processes = {"jobs": {"BACKEND": "queue", "ARGS": {"concurrency": 4}}}
    result = run_manage("worker", processes=processes, env=plugin)
    assert (result.returncode, result.stdout) == (0, "queue worker started with --concurrency=4\n")
    listed = run_manage("worker", "--list", processes=processes, env=plugin)
    assert listed.stdout.splitlines() == [
        "jobs  queue (prodserver_queue:QueueWorker)",
        "    queue-worker --concurrency=4",
    ]


def test_a_typo_suggests_plugin_names_too(plugin: dict[str, str]) -> None:
    result = run_manage("worker", processes={"jobs": {"BACKEND": "queu"}}, env=plugin)
    assert (
        result.stderr
        == "CommandError: Process 'jobs': BACKEND 'queu' is not a backend name; did you mean 'queue'?\n"
    )


def test_the_docs_list_every_name() -> None:
    text = (TESTS_DIR.parent / "docs" / "configuration.md").read_text()
    missing = [name for name, path in names.BUILTIN.items() if f"| `{name}` | `{path}` |" not in text]
    assert missing == []
