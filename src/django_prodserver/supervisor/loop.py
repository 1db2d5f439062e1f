"""The one loop: children's pipes, signals and timers, turned into :class:`Manager` events.

Signal handlers only append the signal number to a queue; ``signal.set_wakeup_fd`` makes the
same signal wake ``select`` so the loop handles it at once, outside the handler (gunicorn's
arbiter works the same way). Child exits arrive as SIGCHLD, so nothing is polled: with every
child running and quiet, the loop sleeps in ``select`` without a timeout and costs no CPU.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any, Protocol

from django_prodserver.conf.processes import ProcessConfig
from django_prodserver.conf.supervisor_settings import SupervisorConfig
from django_prodserver.supervisor.manager import STOP_SIGNALS, Clock, Exited, Manager, Signalled
from django_prodserver.supervisor.printer import Printer
from django_prodserver.supervisor.process import Child, reap_any

HANDLED_SIGNALS = (*STOP_SIGNALS, signal.SIGHUP, signal.SIGCHLD)
#: At most this much output is read from a child that just exited before its exit is shown,
#: so its last lines come before "web exited with code 1" even when a grandchild keeps writing.
EXIT_DRAIN = 1024 * 1024
#: Selector key data of our own stdout while lines wait for it to take them.
_OUTPUT = object()
#: How often we retry a waiting stdout that the selector cannot watch.
OUTPUT_RETRY = 0.05


class ChildLike(Protocol):
    name: str
    pid: int

    def fileno(self) -> int: ...

    def read(self) -> bytes | None: ...

    def close(self) -> None: ...

    def poll(self) -> int | None: ...

    def reaped(self, status: int) -> int: ...

    def send(self, sig: int) -> None: ...

    def signal_group(self, sig: int) -> None: ...

    def group_alive(self) -> bool: ...


#: (name, argv, environment, stop signal) → a started child.
ProcessCtor = Callable[[str, Sequence[str], Mapping[str, str], int], ChildLike]


class Loop:
    def __init__(
        self,
        processes: Sequence[ProcessConfig],
        timing: SupervisorConfig,
        printer: Printer,
        *,
        argv: Callable[[ProcessConfig], list[str]],
        env: Mapping[str, str],
        clock: Clock = time.monotonic,
        process_ctor: ProcessCtor = Child,
    ) -> None:
        self._printer = printer
        self._argv = argv
        self._env = env
        self._clock = clock
        self._ctor = process_ctor
        self._children: dict[int, ChildLike] = {}
        #: Children whose output has not ended yet.
        self._reading: list[ChildLike] = []
        self._signals: collections.deque[int] = collections.deque()
        self._selector = selectors.DefaultSelector()
        #: Our stdout is registered for "writable" (only while lines wait for it).
        self._watching_output = False
        self.manager = Manager(processes, timing, spawn=self._spawn, clock=clock, say=printer.system)

    def _spawn(self, config: ProcessConfig) -> ChildLike:
        child = self._ctor(config.name, self._argv(config), self._env, config.stop_signal)
        self._children[child.pid] = child
        self._reading.append(child)
        self._selector.register(child.fileno(), selectors.EVENT_READ, child)
        return child

    def _enqueue(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)

    def run(self) -> int:
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        self._selector.register(wake_r, selectors.EVENT_READ, None)
        previous: dict[int, Any] = {}
        old_wakeup = -1
        try:
            for sig in HANDLED_SIGNALS:
                previous[sig] = signal.signal(sig, self._enqueue)
            old_wakeup = signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
            self.manager.start()
            while not self.manager.finished:
                self._dispatch()
                self.manager.tick()
                if self.manager.finished:
                    break
                self._select(wake_r)
            self._flush_output()
        finally:
            self._kill_leftovers()
            self._printer.close()
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._selector.close()
            wake_r.close()
            wake_w.close()
        return self.manager.returncode

    def _select(self, wake: socket.socket) -> None:
        """Sleep until a child writes or exits, a signal or timer is due, or stdout takes more."""
        wakeup = self.manager.next_wakeup()
        timeout = None if wakeup is None else max(0.0, wakeup - self._clock())
        self._printer.flush()
        if self._printer.pending and not self._watch_output():
            timeout = OUTPUT_RETRY if timeout is None else min(timeout, OUTPUT_RETRY)
        for key, _ in self._selector.select(timeout):
            if key.data is None:
                _drain_socket(wake)
            elif key.data is _OUTPUT:
                self._printer.flush()
            else:
                self._read(key.data)
        if not self._printer.pending and self._watching_output:
            self._watching_output = False
            self._selector.unregister(self._output_fd())

    def _output_fd(self) -> int:
        return -1 if self._printer.sink.fd is None else self._printer.sink.fd

    def _watch_output(self) -> bool:
        """Have the selector wake us when stdout can take more; False if it cannot watch it."""
        if not self._watching_output:
            try:
                self._selector.register(self._output_fd(), selectors.EVENT_WRITE, _OUTPUT)
            except (OSError, ValueError, KeyError):
                return False
            self._watching_output = True
        return True

    def _dispatch(self) -> None:
        while self._signals:
            signum = self._signals.popleft()
            if signum == signal.SIGCHLD:
                self._reap()
            else:
                self.manager.handle(Signalled(signum))

    def _reap(self) -> None:
        exits: list[tuple[ChildLike, int]] = []
        if os.getpid() == 1:
            for pid, status in reap_any():
                child = self._children.pop(pid, None)
                if child is not None:
                    exits.append((child, child.reaped(status)))
        else:
            for pid, child in list(self._children.items()):
                returncode = child.poll()
                if returncode is not None:
                    del self._children[pid]
                    exits.append((child, returncode))
        for child, returncode in exits:
            if child in self._reading:
                self._read(child, limit=EXIT_DRAIN)
            self.manager.handle(Exited(child.pid, returncode))

    def _read(self, child: ChildLike, limit: int = 0) -> None:
        """One read per wake-up (so one chatty child cannot starve the others), or up to ``limit``."""
        read = 0
        while True:
            data = child.read()
            if data is None:
                return
            if not data:
                self._close(child)
                return
            self._printer.feed(child.name, data)
            read += len(data)
            if read >= limit:
                return

    def _close(self, child: ChildLike) -> None:
        if child in self._reading:
            self._reading.remove(child)
            self._selector.unregister(child.fileno())
            self._printer.finish(child.name)
            child.close()

    def _flush_output(self) -> None:
        """Everything has exited: print what is still in the pipes, without waiting for more."""
        for child in list(self._reading):
            self._read(child, limit=EXIT_DRAIN)
            self._printer.finish(child.name)

    def _kill_leftovers(self) -> None:
        """Whatever happens to this loop (even a bug), no child outlives it."""
        for child in self._children.values():
            child.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 5
        for child in list(self._children.values()):
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        for child in self._reading:
            with contextlib.suppress(OSError, KeyError, ValueError):
                self._selector.unregister(child.fileno())
            child.close()
        self._reading.clear()


def _drain_socket(sock: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while sock.recv(4096):
            pass
