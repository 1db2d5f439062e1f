"""The printer on the chunks a pipe really delivers: partial lines, split characters, bad bytes."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from django_prodserver.supervisor.printer import MAX_LINE, Printer, use_colour


class Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def output(printer: Printer) -> str:
    stream = printer.stream
    assert isinstance(stream, io.BytesIO)
    return stream.getvalue().decode("utf-8")


def test_names_are_padded_to_the_widest_and_lines_wait_for_their_newline() -> None:
    printer = Printer(io.BytesIO(), ["web", "worker"])
    printer.feed("web", b"GET / 2")
    printer.feed("worker", b"task done\nanother ")
    printer.feed("web", b"00\n")
    printer.system("web exited with code 0")
    printer.finish("worker")
    assert output(printer) == (
        "worker | task done\nweb    | GET / 200\nsystem | web exited with code 0\nworker | another \n"
    )


def test_a_long_name_widens_every_prefix() -> None:
    printer = Printer(io.BytesIO(), ["web", "celery-beat"])
    printer.feed("web", b"x\n")
    printer.system("y")
    assert output(printer) == "web         | x\nsystem      | y\n"


def test_bytes_that_are_not_utf8_and_split_characters_never_crash() -> None:
    printer = Printer(io.BytesIO(), ["web"])
    snowman = "☃".encode()
    printer.feed("web", b"caf\xe9\n" + snowman[:1])
    printer.feed("web", snowman[1:] + b"\r\n\xff")
    printer.finish("web")
    assert output(printer) == "web    | caf\ufffd\nweb    | ☃\nweb    | \ufffd\n"


def test_a_line_without_end_is_printed_in_pieces_not_held_forever() -> None:
    printer = Printer(io.BytesIO(), ["web"])
    printer.feed("web", b"a" * (MAX_LINE + 10))
    assert output(printer) == "web    | " + "a" * MAX_LINE + "\n"
    printer.finish("web")
    assert output(printer).endswith("web    | aaaaaaaaaa\n")


def test_colours_on_a_terminal_one_per_process() -> None:
    printer = Printer(Terminal(), ["web", "worker"], colour=True)
    printer.feed("web", b"a\n")
    printer.feed("worker", b"b\n")
    printer.system("c")
    assert output(printer) == (
        "\033[36mweb    | \033[0ma\n\033[33mworker | \033[0mb\n\033[1msystem | \033[0mc\n"
    )


@pytest.mark.parametrize(
    ("stream", "kwargs", "env", "expected"),
    [
        (Terminal(), {}, {}, True),
        (io.BytesIO(), {}, {}, False),
        (Terminal(), {"no_color": True}, {}, False),
        (Terminal(), {}, {"NO_COLOR": "1"}, False),
        (io.BytesIO(), {"force_color": True}, {}, True),
    ],
)
def test_colour_only_on_a_terminal_unless_told(
    stream: io.BytesIO,
    kwargs: dict[str, bool],
    env: dict[str, str],
    expected: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_colour(stream, **kwargs) is expected


class ClosedPipe(io.BytesIO):
    def write(self, data: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_output_does_not_stop_the_supervisor() -> None:
    printer = Printer(ClosedPipe(), ["web"])
    printer.feed("web", b"lost\n")
    printer.system("still supervising")
    assert printer.broken


# ----- issue 12: a slow or stalled stream never blocks, and odd output stays complete -----------


def test_a_lone_carriage_return_ends_a_line_and_a_split_crlf_does_not_add_one() -> None:
    printer = Printer(io.BytesIO(), ["web"])
    printer.feed("web", b"10%\r20%\r")
    printer.feed("web", b"\ndone\r")
    printer.finish("web")
    assert output(printer) == "web    | 10%\nweb    | 20%\nweb    | done\n"


def test_ten_megabytes_without_a_newline_come_out_whole_in_bounded_pieces() -> None:
    printer = Printer(io.BytesIO(), ["web"])
    text = ("é" * 5_000_000).encode()  # two bytes each: pieces must not cut a character
    for start in range(0, len(text), 65536):
        printer.feed("web", text[start : start + 65536])
    printer.finish("web")
    lines = output(printer).splitlines()
    assert all(len(line.encode()) <= len("web    | ") + MAX_LINE for line in lines)
    assert "".join(line.removeprefix("web    | ") for line in lines) == "é" * 5_000_000


def test_output_ending_mid_character_is_printed_with_a_replacement() -> None:
    printer = Printer(io.BytesIO(), ["web"])
    printer.feed("web", "ok ☃".encode()[:-1])
    printer.finish("web")
    assert output(printer) == "web    | ok \ufffd\n"


def test_a_stalled_pipe_never_blocks_and_drops_are_counted_and_said_once() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as stream, os.fdopen(read_end, "rb") as reader:
        printer = Printer(stream, ["web"], limit=100_000)
        line = b"x" * 99 + b"\n"
        for _ in range(10_000):  # 1 MB: far beyond the pipe (64 KiB) and the limit, never blocks
            printer.feed("web", line)
        printer.finish("web")
        os.set_blocking(read_end, False)
        received = b""
        while printer.pending or not received.endswith(b"not read\n"):
            received += reader.read(1 << 20) or b""
            printer.flush()
    lines = received.decode().splitlines()
    kept = lines.count("web    | " + "x" * 99)
    assert 600 < kept < 10_000
    notices = [line for line in lines if line.startswith("system |")]
    assert notices == [
        "system | the output is not being read fast enough: dropping web's lines while it is behind "
        "(counted when its output ends)",
        f"system | web: {10_000 - kept} lines of its output were dropped because the output was not read",
    ]


class Flaky(io.BytesIO):
    """A stream whose writes fail once with ``errno``, then work."""

    def __init__(self, error: int) -> None:
        super().__init__()
        self.error: int | None = error

    def write(self, data: object) -> int:
        if self.error is not None:
            error, self.error = self.error, None
            raise OSError(error, os.strerror(error))
        return super().write(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO])
def test_a_passing_write_error_loses_those_lines_only(error: int) -> None:
    printer = Printer(Flaky(error), ["web"])
    printer.feed("web", b"lost\n")
    printer.feed("web", b"kept\n")
    assert not printer.broken
    assert output(printer) == "web    | kept\n"


def test_a_regular_file_takes_everything_at_once(tmp_path: Path) -> None:
    with (tmp_path / "out.log").open("wb") as stream:
        printer = Printer(stream, ["web"], limit=1000)
        for number in range(1000):
            printer.feed("web", f"line {number}\n".encode())
        assert not printer.pending
    lines = (tmp_path / "out.log").read_text().splitlines()
    assert lines == [f"web    | line {number}" for number in range(1000)]
