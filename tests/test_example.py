"""The bundled example project, exactly as the README's demo command runs it.

``prodserver --all`` migrates (the ``release`` one-shot), then serves the site and runs the
Django Tasks worker together under the supervisor. A visitor presses the button on
/receipts/, the web process enqueues a task, the worker runs it, the page shows the result.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from harness import Response, child_env, free_port, http_get, process_group_alive, prodserver, wait_until

EXAMPLE = Path(__file__).resolve().parent.parent / "example"


def post_form(url: str, page: str, set_cookie: str) -> tuple[int, str]:
    """Submit the page's form the way a browser does: CSRF cookie plus the hidden token."""
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1)}).encode(),
        headers={"Cookie": set_cookie.split(";", maxsplit=1)[0], "Referer": url},
    )
    try:
        with urllib.request.build_opener(KeepRedirect).open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers.get("Location", "")


def test_the_demo_serves_pages_and_runs_a_task_in_the_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEMO_DB": str(tmp_path / "db.sqlite3"),
        "DEMO_PORT": str(port),
    }
    manage = (sys.executable, str(EXAMPLE / "manage.py"))
    with prodserver("--all", env=env, cwd=EXAMPLE, command=manage) as demo:
        base = f"http://127.0.0.1:{port}"
        home = demo.wait_http(base + "/", timeout=90)
        assert home.status == 200, demo.output
        assert "django-prodserver demo" in home.text
        assert http_get(base + "/healthz/", headers={"Host": "10.0.0.7"}).status == 200
        assert http_get(base + "/stream/").text == "".join(f"line {n}\n" for n in range(1, 6))
        assert http_get(base + "/admin/").headers["Location"] == "/admin/login/?next=/admin/"

        form = http_get(base + "/receipts/")
        assert form.status == 200, form.text
        status, location = post_form(base + "/receipts/", form.text, form.headers["Set-Cookie"])
        assert status == 302, location

        def receipt() -> Response | None:
            page = http_get(f"{base}/receipts/{location}")
            assert page.status == 200, page.text
            if "SUCCESSFUL" in page.text:
                return page
            # Still waiting for the worker: the page reloads itself.
            assert '<meta http-equiv="refresh" content="1">' in page.text
            return None

        page = wait_until("the worker made the receipt", receipt, demo, timeout=30, interval=0.2)
        assert "<p>SUCCESSFUL: Receipt for order " in page.text, demo.output
        assert ", made by worker pid " in page.text

        # Without a name, --healthcheck checks every process the running supervisor runs.
        health = subprocess.run(
            [sys.executable, str(EXAMPLE / "manage.py"), "prodserver", "--healthcheck"],
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env(env=env),
            cwd=str(EXAMPLE),
            check=False,
        )
        assert health.returncode == 0, health.stderr
        assert [line.split(": ")[:2] for line in health.stdout.splitlines()] == [
            ["web", "healthy"],
            ["worker", "alive"],
        ]

        assert demo.stop() == 0, demo.output
        assert not process_group_alive(demo.pid)
        for name in ("release", "web", "worker"):
            assert any(line.startswith(f"{name} ") and "|" in line for line in demo.lines), demo.output


def test_the_demo_script_is_what_the_readme_runs() -> None:
    readme = (EXAMPLE.parent / "README.md").read_text().splitlines()
    assert readme[3].startswith("./scripts/demo"), readme[:6]
    assert readme[4].startswith("./scripts/test"), readme[:6]
    demo = (EXAMPLE.parent / "scripts" / "demo").read_text()
    assert "prodserver --all" in demo
