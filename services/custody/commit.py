"""Group commit: the commands that arrive together are decided and saved in one transaction.

Every request thread (or coroutine) hands its command to the process's `CommitQueue` and waits
for its future. One thread takes whatever has arrived, waits a few milliseconds more for company
(up to `most` scans), and gives the group to `commit`, which decides each command, saves all
their events in one transaction and settles each future: with the command's answer once the
transaction has committed, or with the command's own error. While one group commits the next
gathers, so the busier the process, the larger the groups and the fewer the transactions; a
command that arrives alone is committed at once.
"""

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

SWITCH_INTERVAL = 0.0005  # seconds a thread keeps the GIL when another asks for it
C = TypeVar("C")  # a command
R = TypeVar("R")  # its answer


class Pending(Generic[C, R]):
    """A command waiting in the queue, and the future its sender waits on."""

    __slots__ = ("command", "future", "size")

    def __init__(self, command: C, size: int):
        self.command = command
        self.size = size  # scans it holds: a group holds at most `most`
        self.future: Future[R] = Future()


class CommitQueue(Generic[C, R]):
    def __init__(
        self,
        commit: Callable[[Sequence[Pending[C, R]]], None],
        wait: float = 0.002,
        most: int = 500,
        name: str = "group-commit",
    ):
        """`commit` settles every future of the group it is given (a future it leaves unsettled
        gets the error it raised)."""
        self.commit = commit
        self.wait, self.most = wait, most
        self.name = name
        self.pending: deque[Pending[C, R]] = deque()
        self.arrived = threading.Condition()
        self.closed = False
        self.thread: threading.Thread | None = None
        self.groups = 0  # committed so far, and the commands in them: for the metrics and tests
        self.commands = 0
        self.last = 0  # commands in the last group
        self.busy = False  # a group is being committed (one at a time in a process)

    def submit(self, command: C, size: int = 1) -> "Future[R]":
        item: Pending[C, R] = Pending(command, size)
        with self.arrived:
            if self.closed:
                raise RuntimeError("the commit queue is closed")
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
                self.thread.start()
            self.pending.append(item)
            self.arrived.notify()
        return item.future

    def call(self, command: C, size: int = 1) -> R:
        """Commit the command and return its answer. A caller on a thread of its own (a
        command line, a test) while nothing else is queued commits it right there, without
        handing it to the queue's thread and back."""
        with self.arrived:
            alone = not self.pending and not self.busy and not self.closed
            self.busy = self.busy or alone
        if not alone:
            return self.submit(command, size).result()
        item: Pending[C, R] = Pending(command, size)
        self.settle([item])
        return item.future.result()

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self.arrived:
            self.closed = True
            self.arrived.notify()
            thread = self.thread
        if thread is not None:
            thread.join()

    def next_group(self) -> list[Pending[C, R]]:
        with self.arrived:
            while (not self.pending or self.busy) and not self.closed:
                self.arrived.wait()
            # A moment for others to join, when the last group had company: as many commands
            # as it held (the devices it answered are likely sending again), or `most` scans,
            # whichever comes first. Alone (a command line, a quiet hour) it is committed at once.
            if self.wait > 0 and self.last > 1 and not self.closed:
                until = time.monotonic() + self.wait
                while (
                    len(self.pending) < self.last
                    and sum(p.size for p in self.pending) < self.most
                    and not self.closed
                ):
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    self.arrived.wait(left)
            group, size = [], 0
            while self.pending and (not group or size + self.pending[0].size <= self.most):
                size += self.pending[0].size
                group.append(self.pending.popleft())
            self.busy = bool(group)
            return group

    def run(self) -> None:
        # The thread waits on the store several times a group, and each time it needs the GIL
        # back from the event loop, which by default keeps it up to 5 ms: a group's round trips
        # would cost more in waiting for the GIL than in the store.
        sys.setswitchinterval(SWITCH_INTERVAL)
        while True:
            group = self.next_group()
            if not group:
                return  # closed, and nothing left
            self.settle(group)

    def settle(self, group: list[Pending[C, R]]) -> None:
        """Commit a group taken (`busy` set), settle every future, let the next one go."""
        try:
            self.commit(group)
        except BaseException as error:  # a store down: every sender hears it
            for item in group:
                if not item.future.done():
                    item.future.set_exception(error)
        else:
            for item in group:
                if not item.future.done():
                    item.future.set_exception(RuntimeError("the group left it unanswered"))
        with self.arrived:
            self.groups += 1
            self.commands += len(group)
            self.last = len(group)
            self.busy = False
            self.arrived.notify()
