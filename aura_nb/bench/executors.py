"""Where benchmark runs execute: a local process pool, or a Dask cluster (local or at a scheduler's address).

Both take a list of picklable items and a module-level function, and yield `(item, result)` as runs
finish, the result being the exception when the function (or its worker) failed.
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Outcomes = Iterator[tuple[Item, Result | BaseException]]


def in_processes(items: Sequence[Item], fn: Callable[[Item], Result], workers: int) -> Outcomes[Item, Result]:
    """Run `fn` over `items` in a pool of `workers` fresh (spawned) processes."""
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads or an event loop
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
        futures: dict[Future[Result], Item] = {pool.submit(fn, item): item for item in items}
        for future in as_completed(futures):
            error = future.exception()
            yield futures[future], error if error is not None else future.result()


def on_dask(items: Sequence[Item], fn: Callable[[Item], Result], workers: int, address: str) -> Outcomes[Item, Result]:
    """Run `fn` over `items` as one Dask task each: on a new `LocalCluster` of `workers` single-threaded worker
    processes when `address` is `local`, else on the scheduler at `address` (e.g. `tcp://host:8786`)."""
    distributed: Any = importlib.import_module("dask.distributed")  # untyped; an optional dependency
    cluster = None
    if address == "local":
        cluster = distributed.LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster if cluster is not None else address)
    try:
        futures = {client.submit(fn, item, pure=False): item for item in items}
        for future in distributed.as_completed(list(futures)):
            try:
                yield futures[future], future.result()
            except Exception as exc:
                yield futures[future], exc
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
