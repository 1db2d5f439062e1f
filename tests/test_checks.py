"""System checks: every broken setting reported by ``manage.py check`` with its id and its fix.

Ids are asserted as exact lists (a check that reports too much is as wrong as one that
reports too little), then through ``call_command`` (``check``, ``prodserver --check``) in this
process, and through the real ``manage.py`` where only a process shows it: the exit status of
``check`` and ``prodserver --check``, and ``prodserver NAME`` (which checks only NAME, unless
``--skip-checks``) starting a server.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import io
import re
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings
from django.core import checks as django_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from contract import GUNICORN
from django_prodserver import check_ids, checks, errors, platform
from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.backends.gunicorn import GunicornServer
from harness import free_port, prodserver, run_manage
from worker_support import DJANGO_Q2, DJANGO_TASKS

pytestmark = pytest.mark.usefixtures("no_platform_variables")

SRC = Path(checks.__file__).parent
DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
GRANIAN = "django_prodserver.backends.granian.GranianWSGIServer"
CELERY = "django_prodserver.backends.celery.CeleryWorker"


class NotInstalledServer(GunicornServer):
    """A backend whose program is missing (its module does not exist)."""

    module = "prodserver_tests_no_such_server"
    extra = "no-such-server"


class ComplainingServer(BaseServerBackend):
    """A custom backend that reports a problem of its own kind."""

    def check(self) -> list[errors.ProdserverError]:
        return [errors.ProdserverError("Process 'custom': the frobnicator is not configured.")]

    def start_server(self, *args: str) -> None:
        raise AssertionError("the checks start nothing")


class PlainServer(BaseServerBackend):
    """A backend written against the public API only: it has nothing to check."""

    def start_server(self, *args: str) -> None:
        raise AssertionError("the checks start nothing")


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    django.setup()


def web(backend: str = GUNICORN.path, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": backend, **entry}}


def run(
    processes: Any, *, deploy: bool = False, only: Sequence[str] | None = None, **extra: Any
) -> list[django_checks.CheckMessage]:
    with override_settings(PRODUCTION_PROCESSES=processes, **extra):
        if processes is None:
            del settings.PRODUCTION_PROCESSES
        scope = checks.only_processes(only) if only is not None else contextlib.nullcontext()
        with scope:
            return django_checks.run_checks(tags=[checks.TAG], include_deployment_checks=deploy)


def ids(processes: Any, **kw: Any) -> list[str]:
    return [message.id or "" for message in run(processes, **kw)]


# ----- the id table --------------------------------------------------------------------------


def test_ids_are_unique_well_formed_and_each_has_a_hint() -> None:
    all_ids = [spec.id for spec in check_ids.ALL]
    assert len(all_ids) == len(set(all_ids))
    for spec in check_ids.ALL:
        assert re.fullmatch(r"prodserver\.[EW]\d{3}", spec.id), spec
        assert spec.title.endswith("."), spec
        assert spec.hint.endswith("."), spec


def test_every_error_class_has_its_own_id() -> None:
    classes = [
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls)
        and issubclass(cls, errors.ProdserverError)
        and cls is not errors.ProdserverError
    ]
    mapped = {cls: check_ids.check_id(cls("x")) for cls in classes}
    assert check_ids.E008 not in mapped.values(), mapped  # E008 is for errors of custom backends
    assert len(set(mapped.values())) == len(classes)
    assert {spec for _, spec in check_ids.ERROR_IDS} <= set(check_ids.ALL)
    assert check_ids.check_id(errors.OptionError("x")).id == "prodserver.E004"


def test_ids_are_written_only_in_check_ids_py() -> None:
    pattern = re.compile(r"prodserver\.[EW]\d{3}")
    table = Path(check_ids.__file__)
    elsewhere = {
        str(path.relative_to(SRC)): pattern.findall(path.read_text())
        for path in SRC.rglob("*.py")
        if path != table and pattern.search(path.read_text())
    }
    assert elsewhere == {}
    assert set(pattern.findall(table.read_text())) == {spec.id for spec in check_ids.ALL}


def test_the_id_table_is_still_importable_from_checks() -> None:
    """Code written before check_ids.py existed imports the ids from ``django_prodserver.checks``."""
    # Through the module's __getattr__, which is what such code runs into; mypy does not follow it.
    from django_prodserver.checks import ALL, E001, ERROR_IDS, W007, CheckId, check_id  # type: ignore[attr-defined]

    assert (ALL, E001, ERROR_IDS, W007, CheckId, check_id) == (
        check_ids.ALL,
        check_ids.E001,
        check_ids.ERROR_IDS,
        check_ids.W007,
        check_ids.CheckId,
        check_ids.check_id,
    )
    with pytest.raises(AttributeError, match="has no attribute 'E999'"):
        checks.E999  # noqa: B018


def test_the_docs_list_every_check_as_declared() -> None:
    text = DOCS.read_text()
    when = {False: "every `check`", True: "`check --deploy`, `prodserver`"}
    missing = [
        spec.id
        for spec in check_ids.ALL
        if f"| `{spec.id}` | {when[spec.deploy]} | {spec.title} | {spec.hint} |" not in text
    ]
    assert missing == []
    assert len(re.findall(r"^\| `prodserver\.[EW]\d{3}` \|", text, re.MULTILINE)) == len(check_ids.ALL)


def imported_modules(*args: str, processes: Any = None, status: int = 0) -> set[str]:
    """The modules a ``manage.py`` command imports (``-X importtime`` lists each on stderr)."""
    result = run_manage(*args, processes=processes or web(), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == status, result.stderr[-2000:]
    return set(re.findall(r"^import time:.*\| +(\S+)$", result.stderr, re.MULTILINE))


def test_a_start_that_runs_no_check_imports_neither_the_ids_nor_the_supervisor_settings() -> None:
    """Registering the checks (``django.setup()``) must not cost a start with ``--skip-checks``."""
    lazy = {"django_prodserver.check_ids", "django_prodserver.conf.supervisor_settings"}
    assert lazy <= imported_modules("check")
    # A real start, as far as the port check: the port is taken, so it stops there with status 1.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        processes = web(ARGS={"bind": f"127.0.0.1:{port}"})
        started = imported_modules("prodserver", "web", "--skip-checks", processes=processes, status=1)
    assert {"django_prodserver.checks", "django_prodserver.startup"} <= started
    assert lazy & started == set()


def test_a_start_runs_every_system_check_but_those_of_other_commands() -> None:
    """Django's ``commands`` checks (migrate's and makemigrations' autodetectors) are left out
    before a start, and only there: ``manage.py check`` runs them."""
    ran: list[str] = []

    def of_other_commands(**kwargs: Any) -> list[django_checks.CheckMessage]:
        ran.append("commands")
        return []

    def untagged(**kwargs: Any) -> list[django_checks.CheckMessage]:
        ran.append("untagged")
        return []

    django_checks.register(of_other_commands, "commands")
    django_checks.register(untagged)
    try:
        processes = {"rec": {"BACKEND": "testproject.handover.CollectorReport"}}
        with override_settings(PRODUCTION_PROCESSES=processes), contextlib.redirect_stdout(io.StringIO()):
            call_command("prodserver", "rec", skip_checks=False)
            assert ran == ["untagged"]
            call_command("check")
    finally:
        django_checks.registry.registry.registered_checks -= {of_other_commands, untagged}
        gc.unfreeze()  # the start froze this test process' objects
    assert sorted(ran) == ["commands", "untagged", "untagged"]


# ----- errors, as exact id lists ----------------------------------------------------------------


def test_a_working_setting_has_no_issues() -> None:
    assert ids(web(ARGS={"workers": 2})) == []


@pytest.mark.parametrize(
    "processes",
    [
        [],
        {"web": "gunicorn"},
        {"web": {"ARGS": {}}},
        {"web": {"BACKEND": GUNICORN.path, "ARGS": 4}},
        {"web": {"BACKEND": GUNICORN.path, "RESTART": "always"}},
        {"web": {"BACKEND": GUNICORN.path, "STOP_SIGNAL": "SIGNOPE"}},
    ],
    ids=["list", "entry-str", "no-backend", "args-int", "restart", "signal"],
)
def test_a_malformed_setting_is_e001(processes: Any) -> None:
    assert ids(processes) == ["prodserver.E001"]


@pytest.mark.parametrize("processes", [None, {}], ids=["missing", "empty"])
def test_nothing_configured_is_e011_and_only_a_deploy_check(processes: Any) -> None:
    assert ids(processes) == []
    [message] = run(processes, deploy=True)
    assert message.id == "prodserver.E011"


def test_one_malformed_entry_does_not_hide_the_others() -> None:
    processes = {**web(ARGS={"wrkers": 2}), "bad": {"ARGS": {}}, "fine": {"BACKEND": WAITRESS}}
    assert ids(processes) == ["prodserver.E004", "prodserver.E001"]


@pytest.mark.parametrize("backend", ["myproject.servers.Gunicorn", "django_prodserver.conf.ProcessConfig"])
def test_a_backend_that_does_not_import_or_is_not_a_backend_is_e002(backend: str) -> None:
    assert ids(web(backend)) == ["prodserver.E002"]


def test_a_program_that_is_not_installed_is_e003_only_with_deploy_and_names_the_extra() -> None:
    assert ids(web(f"{__name__}.NotInstalledServer")) == []
    [message] = run(web(f"{__name__}.NotInstalledServer"), deploy=True)
    assert (message.id, message.msg) == (
        "prodserver.E003",
        "Process 'web' uses NotInstalledServer, but gunicorn is not installed: "
        "pip install 'django-prodserver[no-such-server]'",
    )


@pytest.mark.parametrize(
    "args",
    [{"wrkers": 2}, {"workers": "many"}, {"preload": "sometimes"}, {"bind": ["a", "b"], "workers": [1, 2]}],
    ids=["key", "value", "flag", "list"],
)
def test_args_the_program_rejects_are_e004(args: Mapping[str, Any]) -> None:
    assert ids(web(ARGS=args)) == ["prodserver.E004"]


def test_an_unknown_key_says_which_option_was_meant() -> None:
    [message] = run(web(UVICORN, ARGS={"worker": 2}))
    assert message.msg == "Process 'web': ARGS key 'worker' is not a uvicorn option; did you mean 'workers'?"
    assert message.hint == check_ids.E004.hint


@pytest.mark.parametrize(
    ("backend", "variable", "value"),
    [
        (GUNICORN.path, "WEB_CONCURRENCY", "lots"),
        (GUNICORN.path, "GUNICORN_CMD_ARGS", "--wrkers 3"),
        (WAITRESS, "FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.2"),
        # The programs' own variables, which their parsers read.
        (UVICORN, "UVICORN_PORT", "abc"),
        (GRANIAN, "GRANIAN_WORKERS", "abc"),
    ],
)
def test_a_bad_platform_variable_is_a_deploy_check_e012(
    monkeypatch: pytest.MonkeyPatch, backend: str, variable: str, value: str
) -> None:
    # Wrong on this machine, not in the project: 'migrate' and the other commands keep working.
    monkeypatch.setenv(variable, value)
    assert ids(web(backend)) == []
    assert ids(web(backend), deploy=True) == ["prodserver.E012"]


def test_a_typo_in_gunicorn_cmd_args_is_found_before_gunicorn_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--wrkers 3")
    [message] = run(web(), deploy=True)
    assert message.msg == (
        "Process 'web': GUNICORN_CMD_ARGS='--wrkers 3' is rejected by gunicorn: unrecognized arguments: "
        "--wrkers; fix it, or unset it where the process runs."
    )


def test_a_programs_own_variable_is_named_not_a_setting_it_never_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UVICORN_PORT", "abc")
    [message] = run(web(UVICORN), deploy=True)
    assert message.msg == (
        "Process 'web': uvicorn rejects a value of its own environment (UVICORN_PORT): Invalid value "
        "for '--port': 'abc' is not a valid integer; fix or unset it where the process runs."
    )


@pytest.mark.parametrize(
    ("processes", "extra"),
    [
        (web(), {"WSGI_APPLICATION": None}),
        (web(), {"WSGI_APPLICATION": "testproject.nowhere.application"}),
        (web(UVICORN), {"ASGI_APPLICATION": "testproject.asgi.nothing"}),
        (web(APP="testproject.wsgi:nothing"), {}),
    ],
    ids=["wsgi-unset", "wsgi-wrong", "asgi-wrong", "app-wrong"],
)
def test_an_application_the_server_cannot_load_is_e005(processes: Any, extra: Mapping[str, Any]) -> None:
    assert ids(processes, **extra) == ["prodserver.E005"]


@pytest.mark.parametrize("app", ["testproject.nothing_here:app", "testproject.celery:nothing"])
def test_a_celery_app_that_does_not_import_is_e006(app: str) -> None:
    assert ids({"worker": {"BACKEND": CELERY, "APP": app}}) == ["prodserver.E006"]


def test_a_worker_whose_django_side_does_not_fit_is_e010_on_every_check() -> None:
    # Django-Q2's app is not in the test project's INSTALLED_APPS.
    assert ids({"worker": {"BACKEND": DJANGO_Q2}}) == ["prodserver.E010"]
    # django-tasks' app is, but without TASKS the default backend runs each task inside
    # enqueue(): db_worker would have nothing to work on.
    apps = [*settings.INSTALLED_APPS, "django_tasks", "django_tasks_db"]
    assert ids({"worker": {"BACKEND": DJANGO_TASKS}}, INSTALLED_APPS=apps) == ["prodserver.E010"]


def test_a_custom_backend_problem_is_e008_and_a_plain_custom_backend_passes() -> None:
    processes = {
        "custom": {"BACKEND": f"{__name__}.ComplainingServer"},
        "plain": {"BACKEND": f"{__name__}.PlainServer", "ARGS": {"anything": 1}},
    }
    assert ids(processes) == ["prodserver.E008"]


def test_only_the_named_processes_are_checked() -> None:
    processes = {**web(), "worker": {"BACKEND": GUNICORN.path, "ARGS": {"wrkers": 2}}}
    assert ids(processes, only=["web"]) == []
    assert ids(processes, only=["worker"]) == ["prodserver.E004"]
    assert ids(processes, only=["web", "nosuch"]) == ["prodserver.E001"]
    assert ids(processes) == ["prodserver.E004"]


class OwnKeysServer(GunicornServer):
    """A project's own subclass of a built-in backend, which may read keys of its own."""


@pytest.mark.parametrize(
    "backend", [GUNICORN.path, "gunicorn", "django_prodserver.backends.servers.gunicorn:GunicornServer"]
)
def test_a_misspelt_key_of_a_builtin_backend_is_w007_naming_the_key_meant(backend: str) -> None:
    messages = run(web(backend, DRIAN=10))
    assert [(m.id, m.level, m.msg, m.hint) for m in messages] == [
        (
            "prodserver.W007",
            django_checks.WARNING,
            "Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key 'DRIAN'; did you mean 'DRAIN'?",
            check_ids.W007.hint,
        )
    ]


def test_an_unknown_key_in_lower_case_or_unlike_any_key_lists_what_is_known() -> None:
    assert [m.msg for m in run(web(restart="never", FROBNICATE=1, ARGS={"workers": 2}))] == [
        "Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key 'restart'; did you mean 'RESTART'?",
        "Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key 'FROBNICATE'; use 'APP', 'ARGS', "
        "'BACKEND', 'DRAIN', 'ONESHOT', 'RESTART', 'SHUTDOWN', 'STOP_SIGNAL', 'WARMUP'.",
    ]


@pytest.mark.parametrize("backend", [f"{__name__}.PlainServer", f"{__name__}.OwnKeysServer"])
def test_a_custom_backend_may_read_keys_of_its_own(backend: str) -> None:
    # 2.x and 3.x backends are constructed with the whole entry: WORKERS may be theirs.
    assert ids(web(backend, WORKERS=4)) == []


def test_unknown_keys_are_checked_only_for_the_processes_in_scope() -> None:
    processes = {**web(), "worker": {"BACKEND": CELERY, "APP": "testproject.celery:app", "SHUTDWON": "warm"}}
    assert ids(processes, only=["web"]) == []
    assert ids(processes) == ["prodserver.W007"]


def test_an_unknown_key_fails_neither_check_nor_prodserver_check() -> None:
    out, err = io.StringIO(), io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=web(DRIAN=10)):
        call_command("check", stdout=out, stderr=err)
    assert "?: (prodserver.W007) Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key 'DRIAN'" in (
        err.getvalue()
    )
    out_text, err_text = prodserver_check(processes=web(DRIAN=10))
    assert "(prodserver.W007) Process 'web'" in err_text
    assert out_text.splitlines()[-1].startswith("web: ")


def test_the_start_warns_of_an_unknown_key_in_one_line_and_serves() -> None:
    # Django's checks at the start leave the process to prodserver's own: the warning must
    # not be lost there.
    port = free_port()
    args = {"bind": f"127.0.0.1:{port}", "workers": 1}
    with prodserver("web", processes={"web": {"BACKEND": "gunicorn", "ARGS": args, "DRIAN": 10}}) as child:
        child.wait_for_line(
            "prodserver: warning: Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key "
            "'DRIAN'; did you mean 'DRAIN'? (prodserver.W007)"
        )
        child.wait_http(f"http://127.0.0.1:{port}/")


def test_dry_run_warns_as_the_start_would_and_checks_the_health_setting() -> None:
    processes = {"web": {"BACKEND": "gunicorn", "ARG": {"workers": 2}}}
    result = run_manage("prodserver", "web", "--dry-run", processes=processes)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "prodserver: warning: Process 'web': PRODUCTION_PROCESSES['web'] has an unknown key 'ARG'; "
        "did you mean 'ARGS'? (prodserver.W007)"
    )
    broken = run_manage(
        "prodserver", "web", "--dry-run", processes=processes, settings={"PRODSERVER_HEALTH": "yes"}
    )
    assert (broken.returncode, broken.stdout, broken.stderr) == (
        1,
        "",
        "CommandError: The PRODSERVER_HEALTH setting must be a dict, e.g. {'READY_CHECKS': ['database']}, "
        "not str.\n",
    )


@pytest.mark.parametrize("command", [["--list"], ["--healthcheck", "web"]])
def test_commands_that_start_nothing_do_not_warn_of_unread_keys(command: list[str]) -> None:
    # --healthcheck runs every few seconds: its stderr is the probe's verdict alone.
    processes = {"web": {"BACKEND": "gunicorn", "ARGS": {"bind": f"127.0.0.1:{free_port()}"}, "ARG": {}}}
    result = run_manage("prodserver", *command, processes=processes)
    assert "W007" not in result.stderr, result.stderr


def test_a_programs_variable_is_not_blamed_for_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # UVICORN_PORT=abc does no harm here (ARGS set the port); the bad ARGS value is the error.
    monkeypatch.setenv("UVICORN_PORT", "abc")
    processes = web(UVICORN, ARGS={"port": 9000, "timeout-keep-alive": "x"})
    assert [(m.id, m.msg) for m in run(processes)] == [
        (
            "prodserver.E004",
            "Process 'web': ARGS['timeout-keep-alive'] = 'x' is rejected by uvicorn: Invalid value for "
            "'--timeout-keep-alive': 'x' is not a valid integer.",
        )
    ]


# ----- deploy checks ---------------------------------------------------------------------------


def test_deploy_checks_run_only_with_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8000")
    assert ids(web(), DEBUG=True, SECURE_SSL_REDIRECT=True) == []
    assert ids(web(), deploy=True, DEBUG=True, SECURE_SSL_REDIRECT=True) == [
        "prodserver.W001",
        "prodserver.W003",
    ]


@pytest.mark.parametrize(
    ("processes", "port", "debug", "expected"),
    [
        (web(), "8000", True, ["prodserver.W001"]),  # PORT means 0.0.0.0
        (web(ARGS={"bind": "[::]:8000"}), None, True, ["prodserver.W001"]),
        (web(WAITRESS), None, True, ["prodserver.W001"]),  # waitress' own default is 0.0.0.0
        (web(UVICORN, ARGS={"host": "0.0.0.0"}), None, True, ["prodserver.W001"]),
        (web(), None, True, []),  # gunicorn's own default is 127.0.0.1
        (web(ARGS={"bind": "127.0.0.1:8000"}), "8000", True, []),
        (web(), "8000", False, []),
    ],
    ids=["port", "ipv6-any", "waitress", "uvicorn", "loopback", "args-loopback", "no-debug"],
)
def test_w001_all_interfaces_with_debug(
    processes: Any, port: str | None, debug: bool, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if port:
        monkeypatch.setenv("PORT", port)
    assert ids(processes, deploy=True, DEBUG=debug) == expected


PROXY_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    ("processes", "forwarded", "expected"),
    [
        (web(WAITRESS, ARGS={"host": "127.0.0.1"}), None, ["prodserver.W002"]),
        (web(WAITRESS, ARGS={"host": "127.0.0.1"}), "10.0.0.1", []),
        (
            web(WAITRESS, ARGS={"host": "127.0.0.1", "trusted-proxy": "10.0.0.1"}),
            None,
            [],
        ),  # waitress' default
        (
            web(
                WAITRESS,
                ARGS={
                    "host": "127.0.0.1",
                    "trusted-proxy": "10.0.0.1",
                    "trusted-proxy-headers": "x-forwarded-for",
                },
            ),
            None,
            ["prodserver.W002"],
        ),
        (web(WAITRESS, ARGS={"host": "127.0.0.1", "clear-untrusted-proxy-headers": False}), None, []),
        (web(), None, []),  # gunicorn passes the header through whoever sent it
        (web(UVICORN), None, []),
    ],
    ids=[
        "waitress",
        "waitress-env",
        "waitress-args",
        "waitress-no-proto",
        "waitress-no-clear",
        "gunicorn",
        "uvicorn",
    ],
)
def test_w002_a_proxy_header_the_server_removes(
    processes: Any, forwarded: str | None, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if forwarded:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", forwarded)
    assert ids(processes, deploy=True, SECURE_PROXY_SSL_HEADER=PROXY_HEADER) == expected


@pytest.fixture
def certificate(tmp_path: Path) -> str:
    path = tmp_path / "cert.pem"
    path.write_text("not checked until start\n")
    return str(path)


@pytest.mark.parametrize(
    ("processes", "forwarded", "extra", "expected"),
    [
        (web(), None, {}, ["prodserver.W003"]),
        (web(), "10.0.0.1", {}, []),
        (web(ARGS={"forwarded-allow-ips": "*"}), None, {}, []),
        (web(), None, {"SECURE_PROXY_SSL_HEADER": PROXY_HEADER}, []),
        (web(UVICORN), "10.0.0.1", {}, []),
        (web(UVICORN, ARGS={"proxy-headers": False}), "10.0.0.1", {}, ["prodserver.W003"]),
        (web(GRANIAN), "10.0.0.1", {}, ["prodserver.W003"]),  # granian cannot trust a proxy
        (web(WAITRESS, ARGS={"host": "127.0.0.1"}), None, {}, ["prodserver.W003"]),
        (web(), None, {"SECURE_SSL_REDIRECT": False}, []),
    ],
    ids=[
        "gunicorn",
        "env",
        "args",
        "proxy-header",
        "uvicorn",
        "uvicorn-off",
        "granian",
        "waitress",
        "no-redirect",
    ],
)
def test_w003_ssl_redirect_loop_behind_a_proxy(
    processes: Any,
    forwarded: str | None,
    extra: Mapping[str, Any],
    expected: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if forwarded:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", forwarded)
    assert ids(processes, deploy=True, **{"SECURE_SSL_REDIRECT": True, **extra}) == expected


@pytest.mark.parametrize(
    ("urlconf", "middleware", "expected"),
    [
        ("testproject.urls", [], ["prodserver.W006"]),
        ("testproject.probes", [], []),
        ("testproject.urls", ["django_prodserver.middleware.HealthCheckMiddleware"], []),
    ],
    ids=["none", "url-include", "middleware"],
)
def test_w006_a_web_process_without_probes(urlconf: str, middleware: list[str], expected: list[str]) -> None:
    assert (
        ids(web(), deploy=True, ROOT_URLCONF=urlconf, MIDDLEWARE=[*middleware, *settings.MIDDLEWARE])
        == expected
    )
    assert ids(web(), ROOT_URLCONF=urlconf) == []  # a deploy check only


def test_w006_names_the_line_to_add() -> None:
    (message,) = run(web(), deploy=True, ROOT_URLCONF="testproject.urls")
    assert message.msg == (
        "Process 'web': gunicorn answers no health probe: neither django_prodserver.urls nor "
        "HealthCheckMiddleware is wired, so an orchestrator cannot tell a hung process from a healthy one."
    )
    assert message.hint == (
        'Add path("", include("django_prodserver.urls")) to your ROOT_URLCONF: prodserver then answers '
        "/healthz/ and /readyz/ ahead of Django, past ALLOWED_HOSTS and SECURE_SSL_REDIRECT; see "
        "docs/health.md."
    )


def test_w003_not_when_the_server_terminates_tls(certificate: str) -> None:
    processes = web(ARGS={"certfile": certificate, "keyfile": certificate})
    assert ids(processes, deploy=True, SECURE_SSL_REDIRECT=True) == []


def test_a_broken_process_gets_its_error_and_no_deploy_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8000")
    assert ids(web(ARGS={"wrkers": 1}), deploy=True, DEBUG=True) == ["prodserver.E004"]


def test_deploy_warning_messages() -> None:
    messages = run(
        {**web(WAITRESS, ARGS={"host": "0.0.0.0"})},
        deploy=True,
        DEBUG=True,
        SECURE_PROXY_SSL_HEADER=PROXY_HEADER,
    )
    assert [(m.id, m.msg, m.hint) for m in messages] == [
        (
            "prodserver.W001",
            "Process 'web': waitress-serve listens on all interfaces (0.0.0.0) while DEBUG = True.",
            check_ids.W001.hint,
        ),
        (
            "prodserver.W002",
            "Process 'web': SECURE_PROXY_SSL_HEADER relies on X-Forwarded-Proto, but waitress-serve removes "
            "that header from every request because it trusts no proxy for it: request.is_secure() is never "
            "True.",
            check_ids.W002.hint,
        ),
    ]


# ----- through Django's check command -------------------------------------------------------------


def test_call_command_check_reports_the_error_with_its_hint() -> None:
    with (
        override_settings(PRODUCTION_PROCESSES=web(ARGS={"wrkers": 2})),
        pytest.raises(SystemCheckError) as info,
    ):
        call_command("check")
    assert (
        "?: (prodserver.E004) Process 'web': ARGS key 'wrkers' is not a gunicorn option; did you mean "
        "'workers', 'worker-class' or 'dirty-workers'?\n"
        f"\tHINT: {check_ids.E004.hint}\n"
    ) in str(info.value)


def test_call_command_check_deploy_prints_warnings_and_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8000")
    out, err = io.StringIO(), io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=web(), DEBUG=True):
        call_command("check", "--deploy", "--tag", checks.TAG, stdout=out, stderr=err)
    assert err.getvalue() == (
        "System check identified some issues:\n\nWARNINGS:\n"
        "?: (prodserver.W001) Process 'web': gunicorn listens on all interfaces (0.0.0.0) while DEBUG = "
        "True.\n"
        f"\tHINT: {check_ids.W001.hint}\n\nSystem check identified 1 issue (0 silenced).\n"
    )


def test_manage_py_check_fails_with_every_broken_process() -> None:
    processes = {
        "web": {"BACKEND": GUNICORN.path, "ARGS": {"wrkers": 2}},
        "other": {"BACKEND": "myproject.servers.Nothing"},
    }
    result = run_manage("check", processes=processes)
    assert result.returncode == 1
    found = re.findall(r"\((prodserver\.[EW]\d{3})\) Process '(\w+)'", result.stderr)
    # Django sorts the messages it prints.
    assert found == [("prodserver.E002", "other"), ("prodserver.E004", "web")], result.stderr
    assert result.stderr.count("\tHINT: ") == 2


# ----- prodserver --check ---------------------------------------------------------------------------


def prodserver_check(*names: str, processes: Any, **extra: Any) -> tuple[str, str]:
    """stdout and stderr of ``manage.py prodserver --check NAMES``, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=processes, **extra):
        call_command("prodserver", "--check", *names, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prodserver_check_passes_and_prints_each_command() -> None:
    workers, _ = platform.default_workers("sync")
    processes = {**web(), "site": {"BACKEND": WAITRESS, "ARGS": {"port": 8081}}}
    out, err = prodserver_check(processes=processes)
    assert err == ""
    assert out == (
        "System check identified no issues (0 silenced).\n"
        "web: DJANGO_PRODSERVER_APP=testproject.wsgi:application "
        "gunicorn --keep-alive=75 --graceful-timeout=25 "
        f"--workers={workers} django_prodserver.gateway:wsgi\n"
        "site: DJANGO_PRODSERVER_APP=testproject.wsgi:application waitress-serve --port=8081 "
        "django_prodserver.gateway:wsgi\n"
    )


def test_prodserver_check_fails_on_errors_with_ids_and_hints() -> None:
    processes = {**web(ARGS={"wrkers": 2}), "site": {"BACKEND": WAITRESS, "ARGS": {"threads": "x"}}}
    result = run_manage("prodserver", "--check", processes=processes)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("SystemCheckError: System check identified some issues:\n\nERRORS:\n")
    assert re.findall(r"\((prodserver\.E\d{3})\) Process '(\w+)'", result.stderr) == [
        ("prodserver.E004", "site"),
        ("prodserver.E004", "web"),
    ]
    assert result.stderr.endswith("System check identified 2 issues (0 silenced).\n")


def test_prodserver_check_name_checks_only_that_process() -> None:
    processes = {**web(), "broken": {"BACKEND": GUNICORN.path, "ARGS": {"wrkers": 2}}}
    out, err = prodserver_check("web", processes=processes)
    assert err == ""
    assert out.splitlines()[0] == "System check identified no issues (0 silenced)."
    assert [line.split(":")[0] for line in out.splitlines()[1:]] == ["web"]
    with pytest.raises(SystemCheckError, match=r"\(prodserver\.E004\) Process 'broken'"):
        prodserver_check("broken", processes=processes)


def test_prodserver_check_shows_deploy_warnings_without_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    out, err = prodserver_check(processes=web(WAITRESS), DEBUG=True)
    assert "(prodserver.W001) Process 'web': waitress-serve listens on all interfaces (0.0.0.0)" in err
    assert out.splitlines()[-1].startswith(
        "web: DJANGO_PRODSERVER_APP=testproject.wsgi:application waitress-serve "
    )


# ----- prodserver NAME: checks NAME before starting, --skip-checks honoured -------------------------


def serves(*extra: str, processes: Mapping[str, Any], changes: Mapping[str, Any] | None = None) -> int:
    """The status of the first answer from ``prodserver web EXTRA…`` (it failed if it never answers)."""
    port = free_port()
    entry = {**processes["web"], "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1}}
    with prodserver("web", processes={**processes, "web": entry}, extra=extra, settings=changes) as child:
        return child.wait_http(f"http://127.0.0.1:{port}/").status


def test_starting_a_process_ignores_problems_of_the_others() -> None:
    processes = {**web(), "worker": {"BACKEND": "myproject.servers.Nothing"}}
    assert serves(processes=processes) == 200


def test_starting_runs_djangos_checks_and_skip_checks_skips_them() -> None:
    broken = {"STATICFILES_DIRS": "static"}  # staticfiles.E001: not a list
    result = run_manage("prodserver", "web", processes=web(), settings=broken)
    assert result.returncode == 1
    assert "(staticfiles.E001) The STATICFILES_DIRS setting is not a tuple or list." in result.stderr
    assert serves("--skip-checks", processes=web(), changes=broken) == 200


def test_a_malformed_supervisor_setting_is_found_by_every_check() -> None:
    messages = run(web(), PRODSERVER_SUPERVISOR={"SHUTDOWN_TIMEOUT": float("inf")})
    assert [(m.id, m.msg) for m in messages] == [
        (
            "prodserver.E001",
            "PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT'] = inf is not a number of seconds; "
            "use a number from 0 to 3600, e.g. 5.",
        )
    ]
