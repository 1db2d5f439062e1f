"""The printer on the chunks a pipe really delivers: partial lines, split characters, bad bytes."""

from __future__ import annotations

import io

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
