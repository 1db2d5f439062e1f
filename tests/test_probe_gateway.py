"""Probes wired with the URL include answer past ALLOWED_HOSTS and SECURE_SSL_REDIRECT on every server.

prodserver hands each web server its gateway (django_prodserver.gateway), which answers the
wired probe paths ahead of Django. A foreign Host (the pod IP) and ``SECURE_SSL_REDIRECT``
still reject or redirect every other path; a project view at /healthz/ keeps answering; a
successful probe stays out of the access log while a failed one is logged.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import free_port, http_get, prodserver, run_manage, wait_until

POD_HOST = {"Host": "10.244.0.17:8000"}
B = "django_prodserver.backends"


def _host_port(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "workers": 1}


def _granian(port: int) -> dict[str, Any]:
    # Granian writes no access log unless asked (nor does prodserver add one: it costs CPU).
    return {**_host_port(port), "access-log": True}


def _bind(port: int, workers: int | None = 1) -> dict[str, Any]:
    # Gunicorn and hypercorn write no access log unless asked, prodserver neither.
    args: dict[str, Any] = {"bind": f"127.0.0.1:{port}", "access-logfile": "-"}
    return {**args, "workers": workers} if workers else args


SERVERS: dict[str, tuple[str, Any]] = {
    "gunicorn": (f"{B}.gunicorn.GunicornServer", _bind),
    "gunicorn-uvicorn": (f"{B}.gunicorn.GunicornUvicornServer", _bind),
    "uvicorn": (f"{B}.uvicorn.UvicornServer", _host_port),
    "uvicorn-wsgi": (f"{B}.uvicorn.UvicornWSGIServer", _host_port),
    "granian": (f"{B}.granian.GranianASGIServer", _granian),
    "granian-wsgi": (f"{B}.granian.GranianWSGIServer", _granian),
    "waitress": (f"{B}.waitress.WaitressServer", lambda p: {"listen": f"127.0.0.1:{p}"}),
    "hypercorn": (f"{B}.hypercorn.HypercornServer", lambda p: _bind(p, None)),
    "daphne": (f"{B}.daphne.DaphneServer", lambda p: {"bind": "127.0.0.1", "port": p}),
    "uwsgi": (f"{B}.uwsgi.UWSGIServer", lambda p: {"http-socket": f"127.0.0.1:{p}", "processes": 1}),
}
#: Servers with an access log, which the gateway's filter keeps successful probes out of:
#: through Python's logging, and daphne's own (waitress logs no access; uWSGI is not filtered).
FILTERED = {
    "gunicorn",
    "gunicorn-uvicorn",
    "uvicorn",
    "uvicorn-wsgi",
    "granian",
    "granian-wsgi",
    "hypercorn",
    "daphne",
}
SETTINGS = {
    "ROOT_URLCONF": "testproject.probes",
    "SECURE_SSL_REDIRECT": True,
    "PRODSERVER_HEALTH": {"READY_CHECKS": ["testproject.probes.check_false"], "READY_CACHE": 0},
}


def web(server: str, port: int) -> dict[str, Any]:
    path, args = SERVERS[server]
    return {"web": {"BACKEND": path, "ARGS": args(port)}}


@pytest.mark.parametrize("server", list(SERVERS))
def test_url_include_probes_pass_host_validation_and_the_ssl_redirect(server: str) -> None:
    port = free_port()
    with prodserver("web", processes=web(server, port), settings=SETTINGS) as child:
        base = f"http://127.0.0.1:{port}"
        live = child.wait_http(f"{base}/healthz/", headers=POD_HOST)
        assert (live.status, live.json()) == (200, {"status": "ok"}), child.output
        assert {k.lower(): v for k, v in live.headers.items()}["cache-control"] == "no-store"
        assert http_get(f"{base}/healthz", headers=POD_HOST).status == 200
        ready = http_get(f"{base}/readyz/", headers=POD_HOST)
        assert (ready.status, ready.json()) == (
            503,
            {"status": "error", "checks": {"testproject.probes.check_false": "error"}},
        ), child.output
        # Every other path keeps host validation and the HTTPS redirect.
        assert http_get(f"{base}/", headers=POD_HOST).status == 400
        redirected = http_get(f"{base}/whoami/", headers={"Host": "127.0.0.1"})
        assert redirected.status == 301
        if server in FILTERED:
            wait_until("the redirect is access-logged", lambda: "GET /whoami/" in child.output, child)
            assert "GET /readyz/" in child.output  # a failed probe is logged
            assert "GET /healthz" not in child.output


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_a_project_view_at_the_probe_path_keeps_answering(server: str) -> None:
    port = free_port()
    settings = {
        "ROOT_URLCONF": "testproject.own_healthz",
        "PRODSERVER_HEALTH": {"READY_CHECKS": []},
    }
    with prodserver("web", processes=web(server, port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        own = child.wait_http(f"{base}/healthz/", headers={"Host": "127.0.0.1"})
        assert (own.status, own.text) == (200, "the project's own health page"), child.output
        # The project's view keeps the project's host validation.
        assert http_get(f"{base}/healthz/", headers=POD_HOST).status == 400
        ready = http_get(f"{base}/readyz/", headers=POD_HOST)
        assert (ready.status, ready.json()) == (200, {"status": "ok", "checks": {}})


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_the_middleware_anywhere_in_middleware_passes_host_validation(server: str) -> None:
    from testproject import settings as project

    port = free_port()
    settings = {
        "ROOT_URLCONF": "testproject.urls",
        # Last: Django alone would reject or redirect the probe before reaching it.
        "MIDDLEWARE": [*project.MIDDLEWARE, "django_prodserver.middleware.HealthCheckMiddleware"],
        "SECURE_SSL_REDIRECT": True,
        "PRODSERVER_HEALTH": {"READY_CHECKS": []},
    }
    with prodserver("web", processes=web(server, port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        live = child.wait_http(f"{base}/healthz/", headers=POD_HOST)
        assert (live.status, live.json()) == (200, {"status": "ok"}), child.output
        ready = http_get(f"{base}/readyz", headers=POD_HOST)
        assert (ready.status, ready.json()) == (200, {"status": "ok", "checks": {}})
        assert http_get(f"{base}/", headers=POD_HOST).status == 400
        assert http_get(f"{base}/", headers={"Host": "127.0.0.1"}).status == 301


def test_dry_run_says_how_probes_are_answered() -> None:
    include = run_manage("prodserver", "web", "--dry-run", settings={"ROOT_URLCONF": "testproject.probes"})
    assert include.returncode == 0, include.stderr
    lines = include.stdout.splitlines()
    assert lines[0].startswith("DJANGO_PRODSERVER_APP=testproject.wsgi:application gunicorn ")
    assert lines[0].endswith(" django_prodserver.gateway:wsgi")
    assert lines[-1] == (
        "  django_prodserver.gateway:wsgi serves testproject.wsgi:application; probes: /healthz/, "
        "/readyz/ (the URL include) answered by prodserver ahead of Django, past ALLOWED_HOSTS and "
        "SECURE_SSL_REDIRECT; successful probes are left out of the access log"
    )
    none = run_manage("prodserver", "web", "--dry-run", settings={"ROOT_URLCONF": "testproject.urls"})
    assert none.stdout.splitlines()[-1] == (
        "  django_prodserver.gateway:wsgi serves testproject.wsgi:application; probes: none wired; add "
        'path("", include("django_prodserver.urls")) to your URLconf (or '
        "'django_prodserver.middleware.HealthCheckMiddleware' to MIDDLEWARE) for /healthz/ and /readyz/"
    )
