"""Writing the Whoosh index: adding and removing documents under the write lock, and
rebuilding it aside (in one process or several) and swapping it in by rewriting ``CURRENT``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from whoosh import index
from whoosh.writing import IndexWriter

from app.search.backend import IndexBusy, IndexUnavailable, SearchDoc, SearchError
from app.search.whoosh.building import _build_in_processes, _write_segments
from app.search.whoosh.fields import _doc_fields, make_schema
from app.search.whoosh.internals import _Codec, _open_index
from app.search.whoosh.store import _DEGRADED, _release, _WhooshStore


class _WhooshWriter(_WhooshStore):
    """What changes the index: :meth:`index`, :meth:`remove`, :meth:`rebuild`, :meth:`clear`."""

    def _ensure_index(self) -> index.Index:
        """The live index for writing (call with the write lock held); creates an empty one."""
        name = self._current_name()
        if name is None:
            name = self._build([], procs=1)[0]
            self._swap(name)
        try:
            return _open_index(os.path.join(self.path, name))
        except Exception as exc:
            _release(exc, f"cannot open the search index at {self.path}")
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc

    def _writer(self, ix: index.Index) -> IndexWriter:
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.05, limitmb=64, codec=_Codec())
        except index.LockError as exc:
            raise IndexBusy(f"the search index at {self.path} is locked by another writer") from exc

    def index(self, docs: Iterable[SearchDoc], create: bool = True) -> None:
        """See :meth:`app.search.backend.SearchBackend.index` (for an id given twice, the
        last document wins)."""
        docs = list({doc.id: doc for doc in docs}.values())
        if not docs:
            return
        with self._write_lock(), self._failing_writes():
            if not create and self._current_name() is None:
                raise IndexUnavailable(f"no search index at {self.path}; rebuild it")
            writer = self._writer(self._ensure_index())
            try:
                for doc in docs:
                    writer.update_document(**_doc_fields(doc))
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit()

    def remove(self, ids: Iterable[int]) -> None:
        """See :meth:`app.search.backend.SearchBackend.remove`."""
        ids = list(ids)
        if not ids:
            return
        with self._write_lock(), self._failing_writes():
            if self._current_name() is None:
                return
            writer = self._writer(self._ensure_index())
            try:
                for pid in ids:
                    writer.delete_by_term("id", str(int(pid)))
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit()

    @contextlib.contextmanager
    def _failing_writes(self) -> Iterator[None]:
        """Any failure of a write (a damaged index raises all sorts of errors in Whoosh)
        becomes :class:`IndexUnavailable`, and the files it left open are closed now."""
        try:
            yield
        except SearchError:
            raise
        except Exception as exc:
            _release(exc, f"writing to the search index at {self.path} failed")
            raise IndexUnavailable(
                f"writing to the search index at {self.path} failed: {exc!r}"
            ) from None

    def _build(self, docs: Iterable[SearchDoc], procs: int) -> tuple[str, int]:
        """Build a complete index in a fresh directory; return its final name and size."""
        tmp = os.path.join(self.path, ".new-" + secrets.token_hex(6))
        os.makedirs(tmp)
        try:
            ix = index.create_in(tmp, make_schema())
            budget = max(32, self.build_memory_mb // procs) * 2**20
            # this writer only holds the index's lock and commits the segments written by
            # the bulk writers (its own segment stays empty and is not committed)
            writer = ix.writer(codec=_Codec())
            try:
                # (where processes cannot be forked, one process builds the index)
                if procs > 1 and "fork" in multiprocessing.get_all_start_methods():
                    segments, count = _build_in_processes(tmp, docs, procs, budget)
                else:
                    segments, count = _write_segments(ix, docs, budget)
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit(mergetype=lambda _writer, _existing: segments)
            ix.close()
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            name = f"index-{stamp}-{secrets.token_hex(3)}"
            os.rename(tmp, os.path.join(self.path, name))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return name, count

    def _swap(self, name: str) -> None:
        """Point CURRENT at ``name`` atomically; delete all indexes but it and the previous."""
        try:
            previous = self._current_name()
        except IndexUnavailable:
            previous = None
        tmp = self._pointer_path() + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._pointer_path())
        for entry in os.listdir(self.path):
            full = os.path.join(self.path, entry)
            stale_build = entry.startswith(".new-") and _older_than(full, 24 * 3600)
            if (entry.startswith("index-") and entry not in (name, previous)) or stale_build:
                shutil.rmtree(full, ignore_errors=True)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """See :meth:`app.search.backend.SearchBackend.rebuild`.

        Holds the write lock for the whole build, so concurrent :meth:`index` calls raise
        :class:`IndexBusy` (their callers keep their dirty records and replay them) instead
        of writing into an index that is about to be replaced.
        """
        with self._write_lock():
            name, count = self._build(docs, self.build_procs)
            self._swap(name)
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.path, _DEGRADED))
        with self._mutex:
            self._drop()
        return count

    def clear(self) -> None:
        """See :meth:`app.search.backend.SearchBackend.clear`."""
        self.rebuild([])


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.path.getmtime(path) > seconds
    except OSError:
        return False
