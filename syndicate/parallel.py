"""Map a function over items on every core, with results in input order.

Worker processes are forked so they start in milliseconds and inherit what the parent
already imported; the order of results never depends on the number of workers, which
keeps builds byte-identical whatever `--jobs` says.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import click

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
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield lambda _result: bar.update(1)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(function: Callable[[T], R], items: Sequence[T], jobs: int,
                 on_result: Callable[[R], None] | None = None, collect: bool = True) -> list[R]:
    """Results in input order; with `collect=False` they go only to `on_result`, one at a time."""
    jobs = jobs or default_jobs()
    results: list[R] = []
    if jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS or "fork" not in multiprocessing.get_all_start_methods():
        for item in items:
            result = function(item)
            if collect:
                results.append(result)
            if on_result:
                on_result(result)
        return results
    # Small chunks: the last ones decide when the slowest worker ends, and a chunk costs little.
    chunk = max(1, min(16, len(items) // (jobs * 8)))
    # Workers collect their own garbage even when the parent had paused collection.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"), initializer=gc.enable) as pool:
        try:
            for result in pool.map(function, items, chunksize=chunk):
                if collect:
                    results.append(result)
                if on_result:
                    on_result(result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results
