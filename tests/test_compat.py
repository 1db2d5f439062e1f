"""What projects written for the public django-prodserver rely on keeps working unchanged."""

from __future__ import annotations

from harness import Child, child_env, free_port, run_manage

LEGACY = {
    "legacy": {
        "BACKEND": "testproject.legacy.LegacyServer",
        "ARGS": {"bind": "127.0.0.1:9999", "workers": "2"},
    }
}


def test_a_custom_backend_gets_its_args_as_before() -> None:
    result = run_manage("prodserver", "legacy", processes=LEGACY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "legacy server started with --bind=127.0.0.1:9999 --workers=2",
        "self.args = ['--bind=127.0.0.1:9999', '--workers=2']",
    ]


def test_list_shows_a_custom_backend_with_its_arguments() -> None:
    result = run_manage("prodserver", "--list", processes=LEGACY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "legacy  testproject.legacy.LegacyServer",
        "    LegacyServer --bind=127.0.0.1:9999 --workers=2",
    ]


def test_devserver_is_runserver() -> None:
    port = free_port()
    child = Child(["devserver", f"127.0.0.1:{port}", "--noreload"], child_env())
    try:
        response = child.wait_http(f"http://127.0.0.1:{port}/")
        assert response.status == 200, child.output
        assert response.text == "hello from testproject"
    finally:
        child.kill_group()
