"""A project that keeps its ``gunicorn.conf.py`` or ``GUNICORN_CMD_ARGS`` when it moves to prodserver.

Command-line options beat gunicorn's config file and ``GUNICORN_CMD_ARGS``, so prodserver
must not put its own defaults (or PORT/WEB_CONCURRENCY-derived options) on the command line
where gunicorn reads them from there: the user's setting would silently lose.
"""

from __future__ import annotations

from pathlib import Path

from contract import worker_processes
from harness import free_port, prodserver, run_manage, wait_until

PROCESSES = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}}


def test_the_config_file_in_the_working_directory_wins(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "gunicorn.conf.py").write_text(f'bind = "127.0.0.1:{port}"\nworkers = 3\n')
    env = {"WEB_CONCURRENCY": "1", "PORT": str(free_port())}
    with prodserver("web", processes=PROCESSES, env=env, cwd=tmp_path) as child:
        assert child.wait_http(f"http://127.0.0.1:{port}/").status == 200
        wait_until("3 workers, as the file says", lambda: len(worker_processes(child.pid)) == 3, child)
        child.wait_for_line(
            "prodserver: web: gunicorn reads gunicorn.conf.py: prodserver adds no defaults and no "
            "PORT/WEB_CONCURRENCY/FORWARDED_ALLOW_IPS options on top of it."
        )
        assert child.stop() == 0, child.output


def test_a_config_file_named_in_args_turns_off_defaults(tmp_path: Path) -> None:
    config = tmp_path / "gunicorn_prod.py"
    config.write_text("workers = 3\n")
    processes = {"web": {**PROCESSES["web"], "ARGS": {"config": str(config)}}}
    result = run_manage("prodserver", "web", "--dry-run", processes=processes, env={"WEB_CONCURRENCY": "5"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "DJANGO_PRODSERVER_APP=testproject.wsgi:application "
        f"gunicorn --config={config} django_prodserver.gateway:wsgi"
    )


def test_gunicorn_cmd_args_beat_prodserver_defaults() -> None:
    # Without GUNICORN_CMD_ARGS the CPU-sized default would put --workers on the command line.
    port = free_port()
    processes = {"web": {**PROCESSES["web"], "ARGS": {"bind": f"127.0.0.1:{port}"}}}
    with prodserver("web", processes=processes, env={"GUNICORN_CMD_ARGS": "--workers 3"}) as child:
        assert child.wait_http(f"http://127.0.0.1:{port}/").status == 200
        wait_until(
            "3 workers, as GUNICORN_CMD_ARGS says", lambda: len(worker_processes(child.pid)) == 3, child
        )
        assert child.stop() == 0, child.output
