"""Secrets in ARGS are masked in what prodserver prints; the program still receives them."""

from __future__ import annotations

from typing import Any

import pytest

from django_prodserver.conf import parse_process
from django_prodserver.errors import OptionError
from django_prodserver.loading import load_backend
from django_prodserver.masking import is_secret, mask_argv, mask_text, mask_value
from harness import run_manage

pytestmark = pytest.mark.usefixtures("no_platform_variables")

FLOWER = "django_prodserver.backends.celery.CeleryFlower"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
CELERY_APP = "testproject.celery.app"
FLOWER_ARGS = {
    "basic_auth": ["admin:hunter2"],
    "cookie_secret": "c00kie",
    "broker_api": "http://guest:brokerpw@127.0.0.1:15672/api/",
    "port": 5555,
}


@pytest.mark.parametrize(
    "name",
    ["password", "--ssl-keyfile-password", "basic_auth", "cookie_secret", "oauth2_key", "API_TOKEN", "auth"],
)
def test_names_that_carry_secrets(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize("name", ["keyfile", "ssl-keyfile", "--certfile", "keep-alive", "workers", "broker"])
def test_names_that_do_not(name: str) -> None:
    assert not is_secret(name)


def test_argv_masks_secret_options_in_both_spellings_and_url_passwords() -> None:
    argv = [
        "--basic-auth=admin:pw",
        "--password",
        "hunter2",
        "--token",
        "--workers=2",
        "-b",
        "redis://:pw@cache:6379/0",
        "DB_PASSWORD=pw",
        "--keyfile=/etc/key.pem",
    ]
    assert mask_argv(argv) == [
        "--basic-auth=***",
        "--password",
        "***",
        "--token",  # a flag: the next option stays
        "--workers=2",
        "-b",
        "redis://:***@cache:6379/0",
        "DB_PASSWORD=***",
        "--keyfile=/etc/key.pem",
    ]


def test_text_and_values() -> None:
    assert mask_text("command-line option '--cookie-secret=abc' for amqp://u:p@h//") == (
        "command-line option '--cookie-secret=***' for amqp://u:***@h//"
    )
    assert mask_value("cookie_secret", "abc") == "'***'"
    assert mask_value("broker-api", "http://u:p@h/") == "'http://u:***@h/'"
    assert mask_value("port", 5555) == "5555"


def test_the_program_gets_the_real_values_and_only_the_printed_forms_are_masked() -> None:
    process = parse_process("flower", {"BACKEND": FLOWER, "APP": CELERY_APP, "ARGS": FLOWER_ARGS})
    backend = load_backend(process)
    resolved = backend.resolve()
    assert "--basic-auth=admin:hunter2" in resolved.argv
    assert "--cookie-secret=c00kie" in backend.prep_server_args()
    printed = " ".join([resolved.shell_command(), *(row.option + row.origin for row in resolved.rows)])
    for secret in ("hunter2", "c00kie", "brokerpw"):
        assert secret not in printed


@pytest.mark.parametrize(
    ("path", "args", "overrides", "message"),
    [
        (
            UVICORN,
            {"ssl-keyfile-password": ["a", "b"]},
            (),
            "Process 'web': ARGS['ssl-keyfile-password'] = '***': '--ssl-keyfile-password' takes one "
            "value, not a list.",
        ),
        (
            GUNICORN,
            None,
            ("--workers=x",),
            "Process 'web': command-line option '--workers=x' = 'x' is rejected by gunicorn: argument "
            "-w/--workers: invalid int value: 'x'",
        ),
        (
            GUNICORN,
            {"forwarded-allow-ips": "http://u:pw@h"},
            (),
            "Process 'web': ARGS['forwarded-allow-ips'] = 'http://u:***@h' is rejected by gunicorn: "
            "'http://u:***@h' does not appear to be an IPv4 or IPv6 network",
        ),
    ],
)
def test_option_errors_mask_secrets(path: str, args: Any, overrides: tuple[str, ...], message: str) -> None:
    backend = load_backend(parse_process("web", {"BACKEND": path, "ARGS": args}), overrides)
    with pytest.raises(OptionError) as info:
        backend.validate()
    assert str(info.value) == message


def test_dry_run_and_list_print_no_secret() -> None:
    processes = {"flower": {"BACKEND": FLOWER, "APP": CELERY_APP, "ARGS": FLOWER_ARGS}}
    dry_run = run_manage("prodserver", "flower", "--dry-run", processes=processes)
    listed = run_manage("prodserver", "--list", processes=processes)
    assert (dry_run.returncode, listed.returncode) == (0, 0), dry_run.stderr + listed.stderr
    assert dry_run.stdout.splitlines()[0] == (
        "celery -A testproject.celery:app flower --address=127.0.0.1 '--basic-auth=***' "
        "'--cookie-secret=***' '--broker-api=http://guest:***@127.0.0.1:15672/api/' --port=5555"
    )
    for secret in ("hunter2", "c00kie", "brokerpw"):
        assert secret not in dry_run.stdout + dry_run.stderr + listed.stdout + listed.stderr
