"""Private servers for the fault tests, each started on a free loopback port in a temporary
folder of its own and stopped (and removed) however the test ends: a PostgreSQL cluster the test
may stop and start (never the machine's shared server on 5432) and a ``redis-server`` (never the
shared one on 6379); and job worker processes the tests may kill."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = "/usr/bin/redis-server"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port free now (the server started next binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` system user when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: trust authentication, loopback only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.log = root / "postgres.log"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / args[0]), *args[1:]]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c max_connections=60"
        )
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options)
        deadline = time.monotonic() + 30
        while not answers(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("the private PostgreSQL did not start:\n" + self.log_text())
            time.sleep(0.1)

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A new cluster, started; stopped (immediately) and removed when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="bazarche-pg-"))
    if os.getuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            with suppress(subprocess.SubprocessError, OSError):
                cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class PrivateRedis:
    """A ``redis-server`` of the test's own, without persistence: what was queued in it is lost
    when it stops (the worst case for the work it held)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.log = root / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [
            REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.log),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while not answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A new redis-server, started; stopped and its folder removed when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="bazarche-redis-"))
    server = PrivateRedis(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class JobWorker:
    """A job worker process (``app.jobs.run_worker``, as ``flask jobs worker`` runs it) on the
    app of :mod:`tests.concurrency_app`, with the environment given (the queue's backend and
    address, the database, the instance folder). ``before`` is Python run in the process once
    the app is built and before the worker starts (a test hook, or enqueuing a scheduled
    sweep as the scheduler would when it is due)."""

    def __init__(self, env: dict[str, str], log: Path, before: str = "") -> None:
        self.log = log
        code = "\n".join(
            [
                "from tests.concurrency_app import build",
                "from app import jobs",
                "app = build()",
                "from app.jobs import tasks",
                before,
                "jobs.run_worker(app, workers=1, periodic=False)",
            ]
        )
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: the task it is running ends where it is, with nothing cleaned up."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def job_worker(env: dict[str, str], log: Path, before: str = "") -> Iterator[JobWorker]:
    """A :class:`JobWorker`, stopped when the block ends."""
    worker = JobWorker(env, log, before)
    try:
        yield worker
    finally:
        worker.stop()
