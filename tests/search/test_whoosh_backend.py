"""The Whoosh backend's own machinery: segments, the index directories and their swap, the
writer locks, damaged files. Everything a backend must do, Whoosh included, is tested in
``test_backends.py``."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.search import IndexBusy, IndexUnavailable, SearchDoc, SearchQuery
from app.search.whoosh import WhooshBackend
from tests.search.relevance_cases import CASES, Case
from tests.search.support import DOCS, check_case


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    b = WhooshBackend(str(tmp_path_factory.mktemp("search") / "index"))
    assert b.rebuild(DOCS) == len(DOCS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    """The same catalogue written in several commits (several segments, with deletions)."""
    b = WhooshBackend(str(tmp_path_factory.mktemp("segmented") / "index"))
    b.rebuild(DOCS[:20])
    b.index([replace(d, title="موقت") for d in DOCS[20:30]])
    b.index(DOCS[20:40])  # replaces the temporary ones: deleted documents in a segment
    b.index(DOCS[40:])
    b.remove([999])  # unknown ids are ignored
    assert b.health()["segments"] > 1
    yield b
    b.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[WhooshBackend]:
    b = WhooshBackend(str(tmp_path / "index"), lock_timeout=0.3)
    yield b
    b.close()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{c.query}" for c in CASES])
def test_segmented_index_answers_the_same(
    backend: WhooshBackend, segmented: WhooshBackend, case: Case
) -> None:
    a = backend.search(SearchQuery(text=case.query, per_page=100))
    b = segmented.search(SearchQuery(text=case.query, per_page=100))
    assert sorted(a.ids) == sorted(b.ids)
    assert a.facets == b.facets


# --- rebuild and swap --------------------------------------------------------------------


def test_rebuild_swaps_atomically_and_cleans_up(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:5])
    reader = WhooshBackend(fresh.path)
    assert reader.search(SearchQuery()).total == 5
    names = []
    for size in (10, 20, 30):
        assert fresh.rebuild(DOCS[:size]) == size
        names.append(fresh.health()["index"])
        assert reader.search(SearchQuery()).total == size  # the other process follows
    entries = sorted(os.listdir(fresh.path))
    indexes = [e for e in entries if e.startswith("index-")]
    assert sorted(indexes) == sorted(names[-2:])  # the live one and the previous one
    assert not [e for e in entries if e.startswith(".new-")]
    assert Path(fresh.path, "CURRENT").read_text().strip() == names[-1]
    reader.close()


def test_failed_rebuild_leaves_no_directory(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:5])

    def broken() -> Iterator[SearchDoc]:
        yield DOCS[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken())
    assert fresh.search(SearchQuery()).total == 5
    assert not [e for e in os.listdir(fresh.path) if e.startswith(".new-")]


@pytest.mark.slow
def test_rebuild_in_two_processes(tmp_path: Path, backend: WhooshBackend) -> None:
    parallel = WhooshBackend(str(tmp_path / "index"), build_procs=2)
    assert parallel.rebuild(DOCS) == len(DOCS)
    for case in CASES[:20]:
        check_case(parallel, case)
    assert parallel.all_ids_with_stamp() == backend.all_ids_with_stamp()
    parallel.close()


# --- locking and broken indexes -------------------------------------------------------------

HOLD_WRITER = textwrap.dedent(
    """
    import sys
    from whoosh import index
    ix = index.open_dir(sys.argv[1])
    writer = ix.writer()
    print("locked", flush=True)
    sys.stdin.read()
    writer.cancel()
    """
)

HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from whoosh.filedb.filestore import FileStorage
    lock = FileStorage(sys.argv[1]).lock("WRITE.lock")
    assert lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def hold(script: str, path: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()


@pytest.mark.slow
def test_index_busy_when_another_process_holds_the_whoosh_writer(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:3])
    live = os.path.join(fresh.path, str(fresh.health()["index"]))
    proc = hold(HOLD_WRITER, live)
    try:
        with pytest.raises(IndexBusy):
            fresh.index(DOCS[3:4])
        with pytest.raises(IndexBusy):
            fresh.remove([1])
        assert fresh.search(SearchQuery()).total == 3  # reading still works
    finally:
        release(proc)
    fresh.index(DOCS[3:4])
    assert fresh.search(SearchQuery()).total == 4


@pytest.mark.slow
def test_index_busy_during_a_rebuild_elsewhere(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:3])
    proc = hold(HOLD_LOCK, fresh.path)
    try:
        with pytest.raises(IndexBusy):
            fresh.index(DOCS[3:4])
        with pytest.raises(IndexBusy):
            fresh.rebuild(DOCS)
    finally:
        release(proc)
    assert fresh.rebuild(DOCS) == len(DOCS)


def live_dir(b: WhooshBackend) -> Path:
    return Path(b.path, Path(b.path, "CURRENT").read_text().strip())


@pytest.mark.parametrize("damage", ["delete_dir", "empty_dir", "garbage_toc", "bad_pointer"])
def test_broken_index_is_unavailable(fresh: WhooshBackend, damage: str) -> None:
    fresh.index(DOCS[:5])
    assert fresh.search(SearchQuery(text="سوزندوزی")).total == 5
    live = live_dir(fresh)
    if damage == "delete_dir":
        for f in live.iterdir():
            f.unlink()
        live.rmdir()
    elif damage == "empty_dir":
        for f in live.iterdir():
            f.unlink()
    elif damage == "garbage_toc":
        for f in live.glob("*.toc"):
            f.write_bytes(b"\x00not a toc" * 10)
        for f in live.glob("*.seg"):
            f.write_bytes(b"garbage")
    else:
        Path(fresh.path, "CURRENT").write_text("index-does-not-exist\n")
    for backend in (fresh, WhooshBackend(fresh.path)):  # a live instance and a new process
        with pytest.raises(IndexUnavailable):
            backend.search(SearchQuery(text="سوزندوزی"))
        with pytest.raises(IndexUnavailable):
            backend.suggest("سوز")
        assert backend.exists() is False
        health = backend.health()
        assert health["ok"] is False and health["error"]
    # a rebuild repairs it
    assert fresh.rebuild(DOCS[:5]) == 5
    assert fresh.search(SearchQuery(text="سوزندوزی")).total == 5


def test_posting_reader_matches_whoosh(segmented: WhooshBackend) -> None:
    from whoosh.reading import TermNotFound

    with segmented._reading() as view:
        assert view.deleted  # the fixture replaced documents
        for fieldname, term in [
            ("title", "سوزن"),
            ("body", "با"),
            ("stem", "سفال"),
            ("title", "x"),
        ]:
            fast = sorted(set(view.postings(fieldname, term)) - view.deleted)
            slow = []
            for reader, offset in view.leaves:
                with contextlib.suppress(TermNotFound):
                    slow.extend(d + offset for d in reader.postings(fieldname, term).all_ids())
            assert fast == sorted(slow), (fieldname, term)


def test_facets_of_large_sets_by_complement(backend: WhooshBackend) -> None:
    from app.search.whoosh.facets import _count_facets, _facets_of

    with backend._reading() as view:
        for size in (5, 19, 21, 31, 45, 60):
            docs = set(view.live[:size])
            assert _facets_of(view, docs) == _count_facets(view, docs, {})


def test_column_reader_matches_whoosh(segmented: WhooshBackend) -> None:
    from app.search.whoosh.internals import _column_values

    with segmented._reading() as view:
        for reader, _offset in view.leaves:
            slow = list(reader.column_reader("attrs", translate=False))
            assert _column_values(reader, "attrs") == slow
            assert len(slow) == reader.doc_count_all()
