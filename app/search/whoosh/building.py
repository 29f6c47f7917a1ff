"""Building the segments of a fresh Whoosh index, in this process or in several forked ones.

:func:`_write_segments` feeds documents to :class:`~app.search.whoosh.internals._BulkWriter`,
starting a new segment whenever one takes more than its memory budget;
:func:`_build_in_processes` runs it in ``procs`` processes, each taking every ``procs``-th
batch of documents. The caller commits the segments and swaps the index in
(:mod:`app.search.whoosh.writer`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterable, Iterator
from multiprocessing.queues import Queue
from typing import Any

from whoosh import index
from whoosh.filedb.filestore import FileStorage

from app.search.backend import SearchDoc
from app.search.whoosh.fields import _doc_fields
from app.search.whoosh.internals import _BulkWriter

_BATCH = 256  # documents sent to a build process at a time


def _write_segments(
    ix: index.Index, docs: Iterable[SearchDoc], budget: int
) -> tuple[list[Any], int]:
    """Write ``docs`` into new segments of ``ix`` (another one whenever the segment being
    built takes more than ``budget`` bytes); return the segments and the number of
    documents."""
    segments: list[Any] = []
    count = 0
    writer = _BulkWriter(ix)
    try:
        for doc in docs:
            writer.add_document(**_doc_fields(doc))
            count += 1
            if not count % _BATCH and writer.memory() > budget:
                segments.append(writer.finish())
                writer = _BulkWriter(ix)
        if writer.docnum:
            segments.append(writer.finish())
        else:
            writer.abandon()
    except BaseException:
        writer.abandon()
        raise
    return segments, count


class _BuildFailed(RuntimeError):
    """A build process failed or died."""


# what a build process reports: (its number, its segments, its document count, an error)
_Outcome = tuple[int, list[Any], int, str | None]


def _build_worker(
    directory: str,
    budget: int,
    number: int,
    jobs: Queue[list[SearchDoc] | None],
    results: Queue[_Outcome],
) -> None:
    """A build process: write the documents of the batches on ``jobs`` (until ``None``) into
    segments of the index in ``directory``; put ``(number, segments, count, None)`` or
    ``(number, [], 0, traceback text)`` on ``results``."""
    parent = os.getppid()
    try:

        def docs() -> Iterator[SearchDoc]:
            while True:
                try:
                    batch = jobs.get(timeout=5)
                except queue.Empty:
                    if os.getppid() != parent:  # the building process died: do not linger
                        raise _BuildFailed("the process building the index is gone") from None
                    continue
                if batch is None:
                    return
                yield from batch

        segments, count = _write_segments(FileStorage(directory).open_index(), docs(), budget)
        results.put((number, segments, count, None))
    except BaseException as exc:
        results.put((number, [], 0, "".join(traceback.format_exception(exc))))


class _BuildPool:
    """``procs`` forked build processes (:func:`_build_worker`), a queue of batches for each
    and the queue their outcomes come back on."""

    def __init__(self, directory: str, procs: int, budget: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.results: Queue[_Outcome] = ctx.Queue()
        self.queues: list[Queue[list[SearchDoc] | None]] = [
            ctx.Queue(maxsize=4) for _ in range(procs)
        ]
        self.workers = [
            ctx.Process(
                target=_build_worker, args=(directory, budget, n, q, self.results), daemon=True
            )
            for n, q in enumerate(self.queues)
        ]
        self.outcomes: dict[int, tuple[list[Any], int]] = {}

    def run(self, docs: Iterable[SearchDoc]) -> None:
        """Start the processes, deal them the batches of ``docs`` in turn, then wait until
        every process has reported and ended."""
        for w in self.workers:
            w.start()
        procs = len(self.workers)
        batch: list[SearchDoc] = []
        sent = 0
        for doc in docs:
            batch.append(doc)
            if len(batch) >= _BATCH:
                self._put(sent % procs, batch)
                sent += 1
                batch = []
        if batch:
            self._put(sent % procs, batch)
        for n in range(procs):
            self._put(n, None)
        while len(self.outcomes) < procs:
            self._collect(0.5)
            self._check()
        for w in self.workers:
            w.join()

    def _collect(self, timeout: float) -> None:
        """Take the outcomes reported so far, waiting up to ``timeout`` for the first."""
        with contextlib.suppress(queue.Empty):
            item = self.results.get(timeout=timeout)
            while True:
                number, segments, count, error = item
                if error:
                    raise _BuildFailed(f"search index build process {number} failed:\n{error}")
                self.outcomes[number] = (segments, count)
                item = self.results.get_nowait()

    def _check(self) -> None:
        """Raise :class:`_BuildFailed` if a process failed or ended without reporting."""
        self._collect(0.01)
        outcomes, workers = self.outcomes, self.workers
        dead = [n for n, w in enumerate(workers) if n not in outcomes and w.exitcode is not None]
        if dead:
            self._collect(1.0)  # what a process reported is in the pipe before it exits
            for n in dead:
                if n not in outcomes:
                    code = workers[n].exitcode
                    raise _BuildFailed(f"search index build process {n} died (exit code {code})")

    def _put(self, n: int, item: list[SearchDoc] | None) -> None:
        while True:
            try:
                self.queues[n].put(item, timeout=0.5)
                return
            except queue.Full:
                self._check()

    def abort(self) -> None:
        """End the processes (after a failure here or in one of them)."""
        for q in self.queues:
            # batches no process will read: do not wait for them to be written at exit
            q.cancel_join_thread()
        for w in self.workers:
            if w.is_alive():
                w.terminate()
        for w in self.workers:
            if w.pid is not None:
                w.join()

    def close(self) -> None:
        for q in self.queues:
            q.close()
        self.results.close()

    def segments(self) -> tuple[list[Any], int]:
        """Every process's segments, in process order, and the number of documents."""
        ordered = [self.outcomes[n] for n in range(len(self.workers))]
        return [seg for segments, _ in ordered for seg in segments], sum(c for _, c in ordered)


def _build_in_processes(
    directory: str, docs: Iterable[SearchDoc], procs: int, budget: int
) -> tuple[list[Any], int]:
    """:func:`_write_segments` in ``procs`` processes, each taking every ``procs``-th batch
    of documents; the segments in process order.

    The processes are forked, not spawned: a spawned process imports the caller's main
    module again, which runs the code of a script without a ``__main__`` guard a second
    time. (They inherit the write lock's descriptor, but are always ended before the lock
    is released.)
    """
    pool = _BuildPool(directory, procs, budget)
    try:
        pool.run(docs)
    except BaseException:
        pool.abort()
        raise
    finally:
        pool.close()
    return pool.segments()
