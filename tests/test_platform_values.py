"""The platform's environment variables read as values, each bad one a single line.

Reported as prodserver.E012, a deploy check: the value is wrong on this machine, not in the
project, so plain ``check`` (and ``migrate``) keep working.

``"²".isdigit()`` is true but ``int("²")`` raises, so digit checks alone let a traceback
through; a huge worker count would fork until the machine falls over; an unclosed quote in
GUNICORN_CMD_ARGS made shlex raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from django_prodserver import check_ids, platform
from django_prodserver.errors import OptionError


def error(function: Callable[[Mapping[str, str], str], Any], environ: dict[str, str]) -> str:
    with pytest.raises(OptionError) as caught:
        function(environ, "web")
    assert check_ids.check_id(caught.value).id == "prodserver.E012"
    return str(caught.value)


@pytest.mark.parametrize("value", ["²", "٣", "0", "65536", "80a", "-1", "8 0"])
def test_a_port_that_is_not_a_tcp_port_is_one_line(value: str) -> None:
    assert error(platform.port_from_env, {"PORT": value}) == (
        f"Process 'web': PORT={value!r} is not a TCP port; set PORT to a number from 1 to 65535, or unset it."
    )


def test_a_port_is_an_int_and_unset_is_none() -> None:
    assert platform.port_from_env({"PORT": " 8080 "}, "web") == 8080
    assert platform.port_from_env({"PORT": ""}, "web") is None
    assert platform.port_from_env({}, "web") is None


@pytest.mark.parametrize("value", ["³", "0", "100000", "1025", "two", "1.5"])
def test_a_worker_count_that_is_not_sane_is_one_line(value: str) -> None:
    assert error(platform.concurrency_from_env, {"WEB_CONCURRENCY": value}) == (
        f"Process 'web': WEB_CONCURRENCY={value!r} is not a worker count; set it to a whole number "
        "from 1 to 1024, or unset it."
    )


def test_a_worker_count_is_an_int() -> None:
    assert platform.concurrency_from_env({"WEB_CONCURRENCY": "1024"}, "web") == 1024
    assert platform.concurrency_from_env({}, "web") is None


@pytest.mark.parametrize(
    ("value", "why"), [('--name "x', "no closing quotation"), ("--name x\\", "no escaped character")]
)
def test_gunicorn_cmd_args_with_bad_quoting_is_one_line(value: str, why: str) -> None:
    assert error(platform.gunicorn_args_from_env, {"GUNICORN_CMD_ARGS": value}) == (
        f"Process 'web': GUNICORN_CMD_ARGS={value!r} cannot be split into arguments ({why}); "
        "fix its quoting, or unset it."
    )


def test_gunicorn_cmd_args_split_like_gunicorn() -> None:
    environ = {"GUNICORN_CMD_ARGS": "--name 'my app' --workers=3"}
    assert platform.gunicorn_args_from_env(environ, "web") == ["--name", "my app", "--workers=3"]
    assert platform.gunicorn_args_from_env({}, "web") == []
