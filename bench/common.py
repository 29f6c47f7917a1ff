"""Helpers shared by the benchmarks: gunicorn servers on the loopback and wrk runs.

Everything here targets 127.0.0.1 only. Servers are started in their own process group and
stopped by that group's id, so a benchmark never leaves workers behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"


def venv_tool(name: str) -> str:
    """A tool from the project's virtualenv, else from PATH."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found (looked in {VENV_BIN} and PATH)")
    return found


def lower_session_priority(pid: int, nice: int) -> None:
    """Give the session ``pid`` leads (a server started in a session of its own) the CPU
    priority ``nice`` says. With the kernel's autogroups (``sched_autogroup_enabled``), a
    process's own nice value only ranks it among the processes of its session; sessions share
    the CPU by their group's nice value, set here (as a service manager's CPU weight would set a
    service's). Nothing is done where the kernel has no autogroups."""
    path = Path(f"/proc/{pid}/autogroup")
    if not path.exists():
        return
    with contextlib.suppress(OSError):
        path.write_text(str(nice))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A gunicorn server: ``workers`` workers of ``worker_class`` (sync; gthread with
    ``threads`` each) bound to 127.0.0.1 on a free port, started under ``nice -n nice`` when
    ``nice`` is set."""

    target: str
    env: dict[str, str]
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    worker_class: str = "sync"
    threads: int = 1
    nice: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 60.0) -> None:
        command = [
            venv_tool("gunicorn"),
            "-w",
            str(self.workers),
            "-k",
            self.worker_class,
            *(["--threads", str(self.threads)] if self.worker_class == "gthread" else []),
            "-b",
            f"{HOST}:{self.port}",
            "--log-level",
            "warning",
            self.target,
        ]
        if self.nice:
            command = ["nice", "-n", str(self.nice), *command]  # nice execs gunicorn: same pid
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        if self.nice:
            lower_session_priority(self.process.pid, self.nice)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.target} exited early; see {self.log_path}:\n{self.log_tail()}"
                )
            try:
                status, _headers, _body = fetch(self.base_url + ready_path, timeout=5)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.target} did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server's own process group (master and workers), by its id."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the master and its live workers."""
        if self.process is None or not Path("/proc").is_dir():
            return 0.0
        return group_cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def fetch(
    url: str, timeout: float = 10.0, cookie: str | None = None
) -> tuple[int, dict[str, str], str]:
    """GET ``url`` (loopback only, with ``cookie`` as the Cookie header if given): status,
    headers and body text."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError("benchmarks only talk to 127.0.0.1")
    headers = {"Accept-Language": "fa"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                dict(response.headers),
                response.read().decode("utf-8", "replace"),
            )
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# CPU used by processes (Linux /proc), to see the cost per request whatever else runs

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: str) -> tuple[int, float] | None:
    """(process group, user + system seconds) of one process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by the live processes of one process group."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (found := _proc_cpu(pid)) is not None and found[0] == pgid:
            total += found[1]
    return total


def postgres_cpu_seconds(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database``."""
    total = 0.0
    marker = f" {database} ".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres:") and marker in cmdline + b" ":
            found = _proc_cpu(pid)
            if found is not None:
                total += found[1]
    return total


# --------------------------------------------------------------------------------------------
# wrk

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m)"


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx responses
    raw: str


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50 and p99 (in ms) and error counts from ``wrk --latency`` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(rf"^\s+50%\s+{_DURATION}", output, re.M)
    p99 = re.search(rf"^\s+99%\s+{_DURATION}", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_ok:
        errors += int(non_ok.group(1))
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=int(total.group(1)),
        errors=errors,
        raw=output,
    )


def run_wrk(
    url: str, *, seconds: int, connections: int, threads: int, cookie: str | None = None
) -> WrkResult:
    """wrk against ``url`` (every request with ``cookie`` as its Cookie header, if given)."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError("benchmarks only talk to 127.0.0.1")
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        "Accept-Language: fa",
        *(["-H", f"Cookie: {cookie}"] if cookie else []),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)
