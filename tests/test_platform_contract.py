"""The platform contract (PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS) and the worker sizing rule.

Every web backend is started for real with the platform's variables, and the result is
observed from outside: the address that accepts connections, the worker processes (or
threads) under the server's master, and what Django is told about a proxied request.
The sizing rule is tested against fake cgroup v1/v2 files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from contract import BY_ID, WEB_BACKENDS, WebBackend, accepts, wait_workers, web_backend_classes
from django_prodserver import platform
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.conf import parse_process
from django_prodserver.errors import OptionError
from django_prodserver.loading import load_backend
from harness import free_port, prodserver, run_manage
from live_checks import sigterm_with_request_in_flight

pytestmark = pytest.mark.usefixtures("no_platform_variables")

# Connections to 127.0.0.2 still name a host Django's ALLOWED_HOSTS accepts.
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


def web(backend: WebBackend, args: Any = None) -> WebServerBackend:
    loaded = load_backend(parse_process("web", {"BACKEND": backend.path, "ARGS": args}))
    assert isinstance(loaded, WebServerBackend)
    return loaded


def sources(loaded: WebServerBackend) -> dict[str, tuple[str, str]]:
    """option argv → (source, origin), as ``--dry-run`` shows them."""
    return {option: (source, origin) for option, origin, source in loaded.describe()}


def test_every_web_backend_is_covered_by_the_contract_tests() -> None:
    assert web_backend_classes() == {b.path for b in WEB_BACKENDS}


# ----- the sizing rule, against fake cgroup files ----------------------------------------------


@pytest.fixture
def cgroup(tmp_path: Path) -> tuple[Path, Path]:
    """(a fake /sys/fs/cgroup, a fake /proc/self/cgroup) with this process in the root cgroup."""
    root = tmp_path / "cgroup"
    root.mkdir()
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text("0::/\n")
    return root, self_cgroup


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


USABLE = len(os.sched_getaffinity(0))


def test_without_a_quota_workers_follow_the_cpus_this_process_may_use(cgroup: tuple[Path, Path]) -> None:
    cpus = f"{USABLE} CPU" if USABLE == 1 else f"{USABLE} CPUs"
    assert platform.default_workers("sync", *cgroup) == (
        2 * USABLE + 1,
        f"2 x {USABLE} + 1 for blocking workers ({cpus} available to this process)",
    )
    assert platform.default_workers("async", *cgroup) == (
        USABLE,
        f"one per CPU ({cpus} available to this process)",
    )


def test_cgroup_v2_unlimited_is_no_quota(cgroup: tuple[Path, Path]) -> None:
    root, self_cgroup = cgroup
    write(root / "cpu.max", "max 100000")
    assert platform.cgroup_quota(root, self_cgroup) is None


def test_a_cgroup_v2_quota_below_the_host_cpus_sizes_the_workers(cgroup: tuple[Path, Path]) -> None:
    root, self_cgroup = cgroup
    write(root / "cpu.max", "100000 100000")
    assert platform.default_workers("sync", root, self_cgroup) == (
        3,
        "2 x 1 + 1 for blocking workers (1 CPU allowed by cgroup v2 cpu.max '100000 100000')",
    )
    assert platform.default_workers("async", root, self_cgroup) == (
        1,
        "one per CPU (1 CPU allowed by cgroup v2 cpu.max '100000 100000')",
    )


def test_a_fractional_quota_rounds_up_to_whole_cpus(cgroup: tuple[Path, Path]) -> None:
    root, self_cgroup = cgroup
    write(root / "cpu.max", "50000 100000")
    budget = platform.cgroup_quota(root, self_cgroup)
    assert budget is not None
    assert (budget.cpus, budget.whole) == (0.5, 1)
    assert platform.default_workers("sync", root, self_cgroup)[0] == 3


def test_a_quota_above_the_usable_cpus_does_not_raise_the_count(cgroup: tuple[Path, Path]) -> None:
    root, self_cgroup = cgroup
    write(root / "cpu.max", f"{(USABLE + 6) * 100000} 100000")
    assert platform.default_workers("async", root, self_cgroup)[0] == USABLE


def test_cgroup_v2_reads_this_process_cgroup_and_the_tightest_ancestor(cgroup: tuple[Path, Path]) -> None:
    # Without a cgroup namespace /sys/fs/cgroup is the host's tree: our limits sit below it,
    # on the container's cgroup and (Kubernetes) on the pod's.
    root, self_cgroup = cgroup
    self_cgroup.write_text("0::/kubepods/pod7/container3\n")
    write(root / "cpu.max", "max 100000")  # the host: no limit
    write(root / "kubepods" / "pod7" / "cpu.max", "100000 100000")
    write(root / "kubepods" / "pod7" / "container3" / "cpu.max", "150000 100000")
    assert platform.default_workers("async", root, self_cgroup) == (
        1,
        "one per CPU (1 CPU allowed by cgroup v2 cpu.max '100000 100000')",
    )


def test_cgroup_v1_quota_on_the_cpu_mount(cgroup: tuple[Path, Path]) -> None:
    # Docker on cgroup v1 bind-mounts the container's own cgroup at the mount point, so the
    # path /proc/self/cgroup names does not exist below it.
    root, self_cgroup = cgroup
    self_cgroup.write_text("4:cpu,cpuacct:/docker/0123abcd\n3:memory:/docker/0123abcd\n")
    write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "100000")
    write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000")
    assert platform.default_workers("sync", root, self_cgroup) == (
        3,
        "2 x 1 + 1 for blocking workers "
        "(1 CPU allowed by cgroup v1 cpu.cfs_quota_us=100000 cpu.cfs_period_us=100000)",
    )


def test_cgroup_v1_nested_path_and_no_quota_marker(cgroup: tuple[Path, Path]) -> None:
    root, self_cgroup = cgroup
    self_cgroup.write_text("2:cpu:/system.slice/app.service\n")
    write(root / "cpu" / "cpu.cfs_quota_us", "-1")
    write(root / "cpu" / "cpu.cfs_period_us", "100000")
    assert platform.cgroup_quota(root, self_cgroup) is None
    write(root / "cpu" / "system.slice" / "app.service" / "cpu.cfs_quota_us", "50000")
    write(root / "cpu" / "system.slice" / "app.service" / "cpu.cfs_period_us", "100000")
    budget = platform.cgroup_quota(root, self_cgroup)
    assert budget is not None
    assert budget.cpus == 0.5


@pytest.mark.parametrize("text", ["", "garbage", "abc 100000", "100000 0"])
def test_unreadable_cgroup_files_mean_no_quota(cgroup: tuple[Path, Path], text: str) -> None:
    root, self_cgroup = cgroup
    write(root / "cpu.max", text)
    assert platform.cgroup_quota(root, self_cgroup) is None


def test_this_machine_is_sized_without_error() -> None:
    count, why = platform.default_workers("sync")
    assert count >= 3
    assert why.startswith(f"2 x {(count - 1) // 2} + 1 for blocking workers (")


# ----- the contract, resolved (what --dry-run shows) -------------------------------------------


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_the_environment_fills_in_what_args_do_not_set(
    backend: WebBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", backend.forwarded)
    shown = sources(web(backend))
    for option in backend.listen_override("0.0.0.0", 8123):
        assert shown[option] == ("environment", "environment PORT=8123"), shown
    if backend.workers:
        assert shown[f"--{backend.workers}=3"] == ("environment", "environment WEB_CONCURRENCY=3")
    else:
        assert "WEB_CONCURRENCY" not in str(shown)
    trusted = {o: s for o, s in shown.items() if "FORWARDED_ALLOW_IPS" in s[1]}
    if backend.proxy_default == "unsupported":
        assert trusted == {}
    else:
        assert trusted, shown
        assert all(source == "environment" for source, _ in trusted.values())


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_args_win_over_the_environment(backend: WebBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    args = backend.listen_args("127.0.0.1", 9001)
    if backend.workers:
        args[backend.workers] = 2
    shown = sources(web(backend, args))
    assert not [row for row in shown.values() if row[0] == "environment"], shown
    if backend.workers:
        assert shown[f"--{backend.workers}=2"][0] == "ARGS"


HOST_ONLY = [b for b in WEB_BACKENDS if b.host_args("127.0.0.1") is not None]


@pytest.mark.parametrize("backend", HOST_ONLY, ids=lambda b: b.id)
def test_a_host_in_args_and_the_port_from_port_combine(
    backend: WebBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "8123")
    resolved = web(backend, backend.host_args("127.0.0.2")).resolve()
    assert resolved.serving is not None
    assert resolved.serving.listen == (("127.0.0.2", 8123),)
    assert "0.0.0.0" not in resolved.shell_command()


@pytest.mark.parametrize("backend", HOST_ONLY, ids=lambda b: b.id)
def test_a_port_in_args_still_beats_port(backend: WebBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    resolved = web(backend, backend.listen_args("127.0.0.2", 9001)).resolve()
    assert resolved.serving is not None
    assert resolved.serving.listen == (("127.0.0.2", 9001),)
    assert "8123" not in resolved.shell_command()


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_a_port_that_is_no_port_is_not_read_where_args_name_the_port(
    backend: WebBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PORT steps aside for an ARGS port, so whatever else set it does not stop the start.
    monkeypatch.setenv("PORT", "http")
    resolved = web(backend, backend.listen_args("127.0.0.2", 9001)).resolve()
    assert resolved.serving is not None
    assert resolved.serving.listen == (("127.0.0.2", 9001),)


@pytest.mark.parametrize("backend", HOST_ONLY, ids=lambda b: b.id)
def test_a_port_that_is_no_port_is_refused_where_it_would_be_read(
    backend: WebBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(OptionError) as info:
        web(backend, backend.host_args("127.0.0.2")).resolve()
    assert str(info.value) == (
        "Process 'web': PORT='http' is not a TCP port; set PORT to a number from 1 to 65535, or unset it."
    )


@pytest.mark.parametrize("with_config", [False, True], ids=["raw-args", "config-file"])
def test_gunicorn_reads_port_itself_where_prodserver_passes_no_bind(
    with_config: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Without a --bind from prodserver, gunicorn's own default bind is 0.0.0.0:$PORT.
    config = tmp_path / "gunicorn.conf.py"
    config.write_text("timeout = 30\n")
    args: Any = {"config": str(config)} if with_config else "--timeout 30"
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(OptionError) as info:
        web(BY_ID["gunicorn"], args).validate()
    assert str(info.value) == (
        "Process 'web': PORT='http' is not a TCP port; set PORT to a number from 1 to 65535, or unset it."
    )
    web(BY_ID["gunicorn"], "--timeout 30 --bind 127.0.0.1:9001").validate()  # a bind: PORT unread


def test_a_bind_host_takes_the_port_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    shown = sources(web(BY_ID["gunicorn"], {"bind": "[::1]"}))
    assert shown["--bind=[::1]:8123"] == ("ARGS", "ARGS['bind'] + environment PORT=8123")
    # A Unix socket or a file descriptor has no port to take.
    for bind in ("unix:/tmp/web.sock", "fd://3"):
        assert f"--bind={bind}" in sources(web(BY_ID["gunicorn"], {"bind": bind}))


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_production_defaults_are_shown_and_each_can_be_replaced(backend: WebBackend) -> None:
    loaded = web(backend)
    defaults = dict(loaded.production_defaults())
    shown = sources(loaded)
    for key in defaults:
        rows = [row for row in shown.values() if row == ("default", f"default {key!r}")]
        assert rows, (key, shown)
    for key, value in defaults.items():
        replaced = None if isinstance(value, bool) else 7
        replacing = sources(web(backend, {key: replaced if replaced is not None else not value}))
        assert ("default", f"default {key!r}") not in replacing.values(), (key, replacing)


@pytest.mark.parametrize("backend", ["gunicorn", "uvicorn", "granian-asgi", "waitress"])
def test_the_docs_list_each_production_default(backend: str) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    documented = re.findall(rf"^\| {backend.split('-', maxsplit=1)[0]} \| `([^`]+)` \|", text, re.MULTILINE)
    shown = [
        option for option, origin, source in web(BY_ID[backend]).describe() if origin.startswith("default '")
    ]
    assert documented == shown


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "http"), ("PORT", "70000"), ("WEB_CONCURRENCY", "auto"), ("WEB_CONCURRENCY", "0")],
)
def test_a_malformed_platform_variable_is_reported_with_its_fix(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(OptionError) as info:
        web(BY_ID["gunicorn"]).resolve().options.values()
    expected = {
        "PORT": f"Process 'web': PORT={value!r} is not a TCP port; set PORT to a number from 1 to 65535, "
        "or unset it.",
        "WEB_CONCURRENCY": f"Process 'web': WEB_CONCURRENCY={value!r} is not a worker count; set it to a "
        "whole number from 1 to 1024, or unset it.",
    }[variable]
    assert str(info.value) == expected


def test_waitress_trusts_exactly_one_proxy_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1, 10.0.0.2")
    with pytest.raises(OptionError) as info:
        web(BY_ID["waitress"]).resolve().options.values()
    assert str(info.value) == (
        "Process 'web': FORWARDED_ALLOW_IPS='10.0.0.1, 10.0.0.2' lists several proxies, but waitress "
        "trusts exactly one address (or '*'); set FORWARDED_ALLOW_IPS to your proxy's address, or set "
        "ARGS 'trusted-proxy'."
    )


def test_waitress_args_that_configure_proxy_trust_replace_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
    loaded = web(BY_ID["waitress"], {"trusted-proxy": "10.0.0.9"})
    assert [a for s in loaded.resolve().options.values() for a in s.argv() if "trusted" in a] == [
        "--trusted-proxy=10.0.0.9"
    ]


def test_the_dry_run_says_where_each_value_came_from() -> None:
    result = run_manage(
        "prodserver",
        "web",
        "--dry-run",
        "--timeout=40",
        processes={"web": {"BACKEND": BY_ID["gunicorn"].path, "ARGS": {"max-requests": 500}}},
        env={"PORT": "8123", "WEB_CONCURRENCY": "3"},
    )
    assert result.returncode == 0, result.stderr
    *options, probes = result.stdout.splitlines()[1:]
    assert probes.startswith("  django_prodserver.gateway:wsgi serves testproject.wsgi:application; probes: ")
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in options}
    assert rows == {
        "--keep-alive=75": "default default 'keep-alive'",
        "--graceful-timeout=25": "default default 'graceful-timeout'",
        "--workers=3": "environment environment WEB_CONCURRENCY=3",
        "--bind=0.0.0.0:8123": "environment environment PORT=8123",
        "--max-requests=500": "ARGS ARGS['max-requests']",
        "--timeout=40": "command line command-line option '--timeout=40'",
    }


def test_the_dry_run_says_why_prodserver_chose_the_worker_count() -> None:
    result = run_manage(
        "prodserver", "web", "--dry-run", processes={"web": {"BACKEND": BY_ID["uvicorn"].path}}
    )
    assert result.returncode == 0, result.stderr
    count, why = platform.default_workers("async")
    rows = [line.split(None, 2) for line in result.stdout.splitlines()[1:]]
    assert [f"--workers={count}", "default", f"default: {why}"] in rows, result.stdout


# ----- the contract, with the real servers -------------------------------------------------------


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_each_server_honours_port_web_concurrency_and_forwarded_allow_ips(backend: WebBackend) -> None:
    port = free_port()
    # backend.forwarded changes what the server does without it: a server that trusts
    # loopback by default must stop believing us; one that trusts nobody must start.
    env = {"PORT": str(port), "WEB_CONCURRENCY": "2", "FORWARDED_ALLOW_IPS": backend.forwarded}
    with prodserver("web", processes={"web": {"BACKEND": backend.path}}, env=env) as child:
        # 127.0.0.2 is loopback too, but only a socket bound to 0.0.0.0 accepts it.
        response = child.wait_http(f"http://127.0.0.2:{port}/whoami/", headers=FORWARDED)
        wait_workers(backend, child, 2)
        seen = response.json()
        if backend.trusts_the_test_proxy:
            client = "203.0.113.9" if backend.proxy_sets_client else "127.0.0.1"
            assert (seen["secure"], seen["remote_addr"]) == (True, client), child.output
        else:
            assert (seen["secure"], seen["remote_addr"]) == (backend.scheme_from_anyone, "127.0.0.1"), (
                child.output
            )
        # The notes were printed before the server answered; the reader may still be behind.
        if backend.workers is None:
            child.wait_for_line("prodserver: web: WEB_CONCURRENCY=2 is ignored: ")
        if backend.proxy_default == "unsupported":
            child.wait_for_line("prodserver: web: FORWARDED_ALLOW_IPS is ignored: ")
        notes = [line for line in child.lines if line.startswith("prodserver: ")]
    # Each variable a server cannot honour is said once at start; nothing else is.
    if backend.workers is None:
        ignored = [n for n in notes if n.startswith("prodserver: web: WEB_CONCURRENCY=2 is ignored: ")]
        assert len(ignored) == 1, child.output
        notes.remove(ignored[0])
    if backend.proxy_default == "unsupported":
        assert notes == [
            f"prodserver: web: FORWARDED_ALLOW_IPS is ignored: {backend.program} cannot take the client "
            "address or scheme from proxy headers."
        ]
    else:
        assert notes == [], child.output


@pytest.mark.lowest  # also run by scripts/test-lowest
@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_each_server_finishes_its_requests_when_the_platform_signals_every_process(
    backend: WebBackend,
) -> None:
    # Heroku signals every process of a dyno, systemd's default KillMode every process of the
    # unit: the workers (and uWSGI's router) get SIGTERM themselves, not only from the master.
    port = free_port()
    processes = {"web": {"BACKEND": backend.path, "ARGS": backend.listen_args("127.0.0.1", port)}}
    with prodserver("web", processes=processes, env={"WEB_CONCURRENCY": "2"}) as child:
        child.wait_http(f"http://127.0.0.1:{port}/")
        wait_workers(backend, child, 2)
        sigterm_with_request_in_flight(child, f"http://127.0.0.1:{port}", every_process=True)


@pytest.mark.parametrize("backend", HOST_ONLY, ids=lambda b: b.id)
def test_each_server_listens_on_port_at_the_host_args_name(backend: WebBackend) -> None:
    port = free_port()
    processes = {"web": {"BACKEND": backend.path, "ARGS": backend.host_args("127.0.0.1")}}
    with prodserver("web", processes=processes, env={"PORT": str(port)}) as child:
        child.wait_http(f"http://127.0.0.1:{port}/")
        # The host came from ARGS: not every interface, as PORT alone would have asked.
        assert not accepts("127.0.0.2", port), child.output


@pytest.mark.parametrize(
    "backend", [BY_ID["gunicorn"], BY_ID["uvicorn"], BY_ID["granian-asgi"]], ids=lambda b: b.id
)
def test_without_settings_the_worker_count_is_sized_and_said_once(backend: WebBackend) -> None:
    count, why = platform.default_workers(backend.sizing)
    port = free_port()
    processes = {"web": {"BACKEND": backend.path, "ARGS": backend.listen_args("127.0.0.1", port)}}
    with prodserver("web", processes=processes) as child:
        child.wait_http(f"http://127.0.0.1:{port}/")
        wait_workers(backend, child, count)
        note = f"prodserver: web: {count} workers: {why}; set WEB_CONCURRENCY or ARGS 'workers' to change."
        child.wait_for_line(note)
        assert child.lines.count(note) == 1, child.output
        assert [line for line in child.lines if line.startswith("prodserver: ")] == [note]
