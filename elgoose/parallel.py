"""A graph of steps run by a few worker threads, each with its own warehouse connection.

What the DAGs do with parallel tasks, done in one process: a step starts as soon as every step it needs
has finished, on the first free worker. The steps themselves are the usual ones (``run_step``,
``pull_endpoint``): one transaction each, recorded in ``processing_status``, so running them side by side
is exactly as safe as the scheduler running them as separate tasks.

A failure stops the run: no new step starts, the running ones finish, and the first error is raised with
a note naming its step; the steps that needed it never start. With one worker the steps run in the given
order on the one connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]


def run_graph(
    connect: Connect,
    order: Sequence[Hashable],
    needs: Mapping[Hashable, set[Hashable]],
    run: Callable[[psycopg.Connection, Hashable], Any],
    *,
    workers: int,
) -> dict[Hashable, Any]:
    """Run ``run(conn, step)`` for every step of ``order``, each after its ``needs``; return each step's result.

    ``order`` is a topological order of the steps (a free worker takes the first ready one); ``connect()``
    opens one worker's connection (a context manager: the worker closes it when it is done).
    """
    unknown = {n for step in order for n in needs.get(step, ())} - set(order)
    if unknown:
        raise ValueError(f"steps need steps that are not in the run: {sorted(map(str, unknown))}")
    state = _Progress(order, needs)
    threads = [threading.Thread(target=_work, args=(connect, run, state), daemon=True) for _ in range(max(workers, 1))]
    if len(threads) == 1:
        _work(connect, run, state)
    else:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if state.failure is not None:
        step, exc = state.failure
        exc.add_note(f"(while running step {step}; the steps after it did not start)")
        raise exc
    return state.results


class _Progress:
    def __init__(self, order: Sequence[Hashable], needs: Mapping[Hashable, set[Hashable]]):
        self.order = list(order)
        self.needs = {step: set(needs.get(step, ())) for step in order}
        self.started: set[Hashable] = set()
        self.results: dict[Hashable, Any] = {}
        self.failure: tuple[Hashable, BaseException] | None = None
        self.changed = threading.Condition()

    def next_step(self) -> Hashable | None:
        """The first ready step, marked started; None when the run is over (all done, or failed)."""
        with self.changed:
            while True:
                if self.failure is not None or len(self.results) == len(self.order):
                    return None
                ready = next(
                    (s for s in self.order if s not in self.started and self.needs[s] <= self.results.keys()), None
                )
                if ready is not None:
                    self.started.add(ready)
                    return ready
                self.changed.wait()

    def finished(self, step: Hashable, result: Any) -> None:
        with self.changed:
            self.results[step] = result
            self.changed.notify_all()

    def failed(self, step: Hashable, exc: BaseException) -> None:
        with self.changed:
            if self.failure is None:
                self.failure = (step, exc)
            self.changed.notify_all()


def _work(connect: Connect, run: Callable[[psycopg.Connection, Hashable], Any], state: _Progress) -> None:
    try:
        with connect() as conn:
            while (step := state.next_step()) is not None:
                try:
                    result = run(conn, step)
                except BaseException as exc:
                    state.failed(step, exc)
                    return
                state.finished(step, result)
    except BaseException as exc:  # the connection itself: no step of this worker ran
        state.failed("(opening a warehouse connection)", exc)
