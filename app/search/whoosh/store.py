"""The Whoosh backend's footing: the index directory and its pointer, the write lock, the
open view (reopened when another process commits or swaps the index), and the state every
process reads (existence, health, the degraded mark).

:class:`_WhooshStore` is the base of :class:`~app.search.whoosh.WhooshBackend`; the writing and the
searching halves (:mod:`~app.search.whoosh.writer`, :mod:`~app.search.whoosh.reader`) build
on it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
import threading
import traceback
import warnings
from collections.abc import Iterable, Iterator

from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher
from whoosh.util.filelock import try_for

from app.search.backend import IndexBusy, IndexUnavailable
from app.search.whoosh.internals import _open_index
from app.search.whoosh.views import (
    _POSTINGS_CACHE,
    _concat,
    _PostingCache,
    _read_leaves,
    _Segment,
    _View,
)

log = logging.getLogger(__name__)

_POINTER = "CURRENT"
_DEGRADED = "DEGRADED"  # written by mark_degraded, removed by the swap of a rebuild
_LOCK_NAME = "WRITE.lock"


class _WhooshStore:
    """The index directory, its lock, the open view and the index's state."""

    def __init__(
        self,
        path: str,
        lock_timeout: float = 1.0,
        build_procs: int = 1,
        build_memory_mb: int = 512,
    ) -> None:
        self.path = os.path.abspath(path)
        self.lock_timeout = lock_timeout
        self.build_procs = max(1, build_procs)
        self.build_memory_mb = build_memory_mb
        self._mutex = threading.RLock()
        self._view_cache: _View | None = None
        self._pointer_sig: tuple[int, int] | None = None
        self._segments: dict[str, _Segment] = {}
        self._cache = _PostingCache(_POSTINGS_CACHE)
        self._lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]] = {}

    # --- locations --------------------------------------------------------------------------

    def _pointer_path(self) -> str:
        return os.path.join(self.path, _POINTER)

    def _current_name(self) -> str | None:
        try:
            with open(self._pointer_path(), encoding="utf-8") as fh:
                name = fh.read().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexUnavailable(f"cannot read {self._pointer_path()}: {exc}") from exc
        if not name.startswith("index-") or "/" in name or os.sep in name:
            raise IndexUnavailable(f"bad index pointer in {self._pointer_path()}")
        return name

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        os.makedirs(self.path, exist_ok=True)
        lock = FileStorage(self.path).lock(_LOCK_NAME)
        if not try_for(lock.acquire, timeout=self.lock_timeout, delay=0.05):
            raise IndexBusy(f"the search index at {self.path} is being written by another process")
        try:
            yield
        finally:
            lock.release()

    # --- reading ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[_View]:
        """The current view, under the mutex; any failure while reading turns into
        :class:`IndexUnavailable` (a damaged file raises all sorts of errors in Whoosh)."""
        with self._mutex:
            try:
                yield self._open_view()
            except IndexUnavailable:
                raise
            except Exception as exc:
                _release(exc, f"search index at {self.path} failed")
                self._drop()
                raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc

    def _open_view(self) -> _View:
        """The current view, reopened if the index changed (call with the mutex held)."""
        try:
            st = os.stat(self._pointer_path())
            sig = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            self._drop()
            raise IndexUnavailable(f"no search index at {self.path}") from None
        view = self._view_cache
        if view is not None and sig == self._pointer_sig:
            # A new searcher rather than Searcher.refresh(): refresh() reuses the reader of a
            # segment whose id is unchanged and so keeps serving documents deleted since.
            if view.searcher.up_to_date():
                if _file_stats(view.directory, [f[0] for f in view.files]) != view.files:
                    # Whoosh never rewrites a file: the index was damaged in place. Say so
                    # now rather than serve what is cached of it.
                    self._drop()
                    raise IndexUnavailable(f"search index at {self.path} changed on disk")
                return view
            searcher = view.ix.searcher()
            with contextlib.suppress(Exception):
                view.searcher.close()
            return self._build_view(view.ix, searcher, view.name, sig)
        self._drop()
        name = self._current_name()
        if name is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        try:
            ix = _open_index(os.path.join(self.path, name))
            searcher = ix.searcher()
        except Exception as exc:  # any failure to open means the index is unusable
            _release(exc, f"cannot open the search index at {self.path}")
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc
        return self._build_view(ix, searcher, name, sig)

    def _build_view(
        self, ix: index.Index, searcher: Searcher, name: str, sig: tuple[int, int]
    ) -> _View:
        try:
            found = _read_leaves(ix, searcher, name, self._segments, self._lives)
        except BaseException:
            with contextlib.suppress(Exception):
                searcher.close()
            self._drop()
            raise
        self._segments = found.keep
        self._lives = found.lives
        # the view's key: its segments, in order (another commit makes another view)
        keys = found.keys
        view_key = "|".join(k for k in keys if k is not None) if None not in keys else None
        self._cache.retain({*found.keep, view_key} if view_key else found.keep)
        directory = os.path.join(self.path, name)
        view = _View(
            ix=ix,
            searcher=searcher,
            name=name,
            directory=directory,
            files=_file_stats(directory, found.files),
            leaves=found.readers,
            keys=keys,
            key=view_key,
            cache=self._cache,
            live=found.live,
            deleted=frozenset(found.deleted),
            **_concat(found.segments),
        )
        self._view_cache = view
        self._pointer_sig = sig
        return view

    def _drop(self) -> None:
        view, self._view_cache, self._pointer_sig = self._view_cache, None, None
        self._segments = {}
        self._lives = {}
        self._cache.retain(())
        if view is not None:
            with contextlib.suppress(Exception):
                view.searcher.close()

    def close(self) -> None:
        """Close the open searcher (the backend reopens it on the next call)."""
        with self._mutex:
            self._drop()

    # --- state ------------------------------------------------------------------------------

    def mark_degraded(self, reason: str) -> None:
        """See :meth:`app.search.backend.SearchBackend.mark_degraded`: a file next to
        ``CURRENT`` (nothing is written when the index folder itself is gone)."""
        if not os.path.isdir(self.path):
            return
        path = os.path.join(self.path, _DEGRADED)
        tmp = f"{path}.{secrets.token_hex(4)}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(reason.replace("\n", " ")[:1000] + "\n")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("search: cannot mark the index at %s degraded: %s", self.path, exc)
            with contextlib.suppress(OSError):
                os.remove(tmp)

    def degraded(self) -> str | None:
        """See :meth:`app.search.backend.SearchBackend.degraded`."""
        try:
            with open(os.path.join(self.path, _DEGRADED), encoding="utf-8") as fh:
                return fh.read().strip() or "marked degraded"
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            return f"cannot read the degraded mark: {exc}"

    def exists(self) -> bool:
        """See :meth:`app.search.backend.SearchBackend.exists`."""
        try:
            with self._reading():
                pass
        except IndexUnavailable:
            return False
        return True

    def health(self) -> dict[str, object]:
        """See :meth:`app.search.backend.SearchBackend.health`; also ``index`` (directory
        name), ``segments`` and ``generation``."""
        info: dict[str, object] = {"ok": False, "docs": 0, "path": self.path, "error": None}
        try:
            with self._reading() as view:
                info.update(
                    ok=True,
                    docs=len(view.live),
                    index=view.name,
                    segments=len(view.leaves),
                    generation=view.searcher.reader().generation(),
                )
        except IndexUnavailable as exc:
            info["error"] = str(exc)
        return info

    def all_ids_with_stamp(self) -> dict[int, str]:
        """See :meth:`app.search.backend.SearchBackend.all_ids_with_stamp`."""
        with self._reading() as view:
            return {view.ids[d]: view.stamp[d] for d in view.live}

    def index_size(self) -> int:
        """Bytes on disk of the live index (0 when there is none)."""
        name = self._current_name()
        if name is None:
            return 0
        root = os.path.join(self.path, name)
        return sum(os.path.getsize(os.path.join(root, f)) for f in os.listdir(root))


def _release(exc: BaseException, message: str) -> None:
    """Log a failed read, then drop its tracebacks: Whoosh leaves files open in the frames
    when it fails half-way, and they are closed now, quietly, rather than with a
    ResourceWarning whenever the traceback happens to be collected. (The traceback is logged
    as text so that no log record keeps it alive.)"""
    log.warning("%s\n%s", message, "".join(traceback.format_exception(exc)).rstrip())
    seen: set[int] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        chained: BaseException | None = exc
        while chained is not None and id(chained) not in seen:
            seen.add(id(chained))
            traceback.clear_frames(chained.__traceback__)
            chained.__traceback__ = None
            chained = chained.__cause__ or chained.__context__
        gc.collect()


def _file_stats(directory: str, names: Iterable[str]) -> tuple[tuple[str, int, int, int], ...]:
    """``(name, inode, size, mtime)`` of each file of ``names`` in ``directory`` (zeros for
    a missing one)."""
    out = []
    for name in names:
        try:
            st = os.stat(os.path.join(directory, name))
            out.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((name, 0, 0, 0))
    return tuple(out)
