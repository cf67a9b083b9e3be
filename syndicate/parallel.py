"""Map a function over items on every core, with results in input order.

What the workers need is an explicit argument: `parallel_map(function, context, items, ...)`
calls `function(context, item)`. Worker processes are forked, so the context (a whole
site's articles, a theme, a renderer) reaches them by inheritance, never pickled, and they
start in milliseconds with what the parent already imported. Items and results do travel
pickled, in chunks. The order of results never depends on the number of workers, which
keeps builds byte-identical whatever `--jobs` says. `Beside` computes one value in a forked
process while the build goes on (the look at the output folder while the plan loads).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # multiprocessing itself is imported by the builds that fork
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

# Below this many items a pool costs more to start than it saves.
MIN_PARALLEL_ITEMS = 24


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[object], None]]:
    """A progress bar on stderr for long runs; a no-op below a few hundred items (about a second)
    and when `total` is 0, which callers pass when stderr is not a terminal."""
    if total < 300:
        yield lambda _result: None
        return
    import click

    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield lambda _result: bar.update(1)


@contextlib.contextmanager
def kept_until_the_end() -> Iterator[None]:
    """What is loaded inside (tens of thousands of objects, no cycles) lives until the build
    ends: the collector need not walk it again and again, and forked workers share it untouched."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(function: Callable[[C, T], R], context: C, items: Sequence[T], jobs: int,
                 on_result: Callable[[R], None] | None = None, collect: bool = True) -> list[R]:
    """`[function(context, item) for item in items]`, on `jobs` processes (0: one per core).

    Results come in input order; with `collect=False` they go only to `on_result`, one at a
    time, so a caller can store each and let it go."""
    jobs = jobs or default_jobs()
    results: list[R] = []

    def deliver(result: R) -> None:
        if collect:
            results.append(result)
        if on_result:
            on_result(result)

    if jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS or not hasattr(os, "fork"):
        for item in items:
            deliver(function(context, item))
        return results
    # Small chunks: the last ones decide when the slowest worker ends, and a chunk costs little.
    size = max(1, min(16, len(items) // (jobs * 8)))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    for chunk_results in _Workers(function, context, min(jobs, len(chunks))).map(chunks):
        for result in chunk_results:
            deliver(result)
    return results


class _WorkerError(Exception):
    """An exception raised in a worker, with the worker's own traceback in its message."""


def _work(function: Callable[[Any, Any], Any], context: Any, tasks: Connection, results: Connection) -> None:
    """A worker's life: map each chunk it is sent until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.enable()  # the parent may have paused collection while it loaded; a worker collects its own
    while (chunk := tasks.recv()) is not None:
        try:
            out = [function(context, item) for item in chunk]
        except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
            results.send(_WorkerError(f"in a worker process:\n{''.join(traceback.format_exception(exc))}"))
            return
        results.send(out)


class _Workers:
    """Forked workers, each with a pipe for chunks and a pipe for results: one chunk in flight
    per worker, so memory stays bounded and no pipe can fill up while its reader waits."""

    def __init__(self, function: Callable[[Any, Any], Any], context: Any, count: int) -> None:
        self.function = function
        self.context = context
        self.count = count

    def map(self, chunks: Sequence[Sequence[Any]]) -> Iterator[list[Any]]:
        import multiprocessing

        fork = multiprocessing.get_context("fork")
        processes: list[BaseProcess] = []
        senders: list[Connection] = []
        receivers: list[Connection] = []
        try:
            for _number in range(self.count):
                task_out, task_in = fork.Pipe(duplex=False)
                result_out, result_in = fork.Pipe(duplex=False)
                worker = fork.Process(target=_work, args=(self.function, self.context, task_out, result_in), daemon=True)
                worker.start()
                task_out.close()
                result_in.close()
                processes.append(worker)
                senders.append(task_in)
                receivers.append(result_out)
            yield from self._run(chunks, processes, senders, receivers)
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join()
            for connection in (*senders, *receivers):
                connection.close()

    def _run(self, chunks: Sequence[Sequence[Any]], processes: list[BaseProcess], senders: list[Connection],
             receivers: list[Connection]) -> Iterator[list[Any]]:
        from multiprocessing.connection import wait

        doing: dict[int, int] = {}  # worker -> chunk number
        done: dict[int, list[Any]] = {}
        next_chunk = next_out = 0
        for worker in range(self.count):
            senders[worker].send(chunks[next_chunk])
            doing[worker] = next_chunk
            next_chunk += 1
        while next_out < len(chunks):
            ready = wait([receivers[w] for w in doing] + [processes[w].sentinel for w in doing])
            for worker in list(doing):
                if receivers[worker] in ready:
                    try:
                        out = receivers[worker].recv()
                    except EOFError:
                        out = None
                    if out is None:
                        raise RuntimeError(f"a worker process died (exit code {processes[worker].exitcode})")
                    if isinstance(out, _WorkerError):
                        raise out
                    done[doing.pop(worker)] = out
                    if next_chunk < len(chunks):
                        senders[worker].send(chunks[next_chunk])
                        doing[worker] = next_chunk
                        next_chunk += 1
                    else:
                        senders[worker].send(None)
                elif processes[worker].sentinel in ready and not receivers[worker].poll():
                    raise RuntimeError(f"a worker process died (exit code {processes[worker].exitcode})")
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1


class Beside(Generic[R]):
    """One value computed in a forked process while this one goes on: work that waits on the
    disk (an lstat for each of twenty thousand files) beside work that holds the interpreter
    (unpickling a plan). Without `fork` (one job, the preview server, no fork on this system,
    or other threads running here, which a fork would copy mid-step into a child that has only
    one) the value is computed here, when first asked. A child that fails costs nothing but time:
    the value is then computed here too. `close` stops a child whose value nobody asked."""

    def __init__(self, function: Callable[[], R], fork: bool) -> None:
        self._function = function
        self._pid = 0
        self._pipe = -1
        self._value: tuple[R] | None = None
        if fork and hasattr(os, "fork") and threading.active_count() == 1:
            self._start()

    def _start(self) -> None:
        import pickle

        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without running the parent's cleanup
            code = 1
            try:
                os.close(read)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                data = pickle.dumps(self._function(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._pipe = pid, read

    @property
    def forked(self) -> bool:
        """A child is computing the value (until it is asked for)."""
        return bool(self._pid)

    def result(self) -> R:
        if self._value is None:
            self._value = self._receive() or (self._function(),)
        return self._value[0]

    def _receive(self) -> tuple[R] | None:
        if not self._pid:
            return None
        import pickle

        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        _pid, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if status != 0 or not data:
            return None
        return (pickle.loads(data),)  # noqa: S301 - written by this process's own fork, through a pipe

    def close(self) -> None:
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            os.close(self._pipe)
            os.waitpid(self._pid, 0)
            self._pid = 0
