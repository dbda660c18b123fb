"""The app under gunicorn, as production runs it, for the benchmarks that speak HTTP.

`with Gunicorn(database_url=…, redis_url=…) as server:` starts
`python -m gunicorn config.wsgi` on a socket the bench binds itself (a free
port on 127.0.0.1, handed over as `fd://N`, so no other process can take the
port between choosing and binding it), waits for an answer with a deadline and
always stops it (TERM, then KILL). Its log goes to build/bench-gunicorn.log.

`BENCH_GUNICORN="gthread 3 4"` (worker class, workers, threads) overrides the
default, to compare settings.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "build" / "bench-gunicorn.log"

# Measured on the 2-core machine (README, "Performance"): sync workers gave about
# half the orders/s of gthread (5–8 against 10–22 in the same noisy hour) — a
# sync worker serves one request at a time and closes every connection, so its
# database waits leave the core idle — while gthread with 2, 3 or 4 workers of
# 4 threads differed by less than the noise. Three workers, as the Procfile.
WORKER_CLASS = "gthread"
WORKERS = 3
THREADS = 4
START_DEADLINE_SECONDS = 60.0


def settings_from_env() -> tuple[str, int, int]:
    """(worker class, workers, threads): BENCH_GUNICORN or the defaults above."""
    words = os.environ.get("BENCH_GUNICORN", "").split()
    if not words:
        return WORKER_CLASS, WORKERS, THREADS
    worker_class = words[0]
    workers = int(words[1]) if len(words) > 1 else WORKERS
    threads = int(words[2]) if len(words) > 2 else (1 if worker_class == "sync" else THREADS)
    return worker_class, workers, threads


class Gunicorn:
    """A gunicorn serving the app against the bench's database; `.host`, `.port`."""

    def __init__(self, *, database_url: str, redis_url: str | None) -> None:
        self.worker_class, self.workers, self.threads = settings_from_env()
        self.database_url = database_url
        self.redis_url = redis_url
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None

    @property
    def description(self) -> str:
        threads = f" × {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "ALLOWED_HOSTS": f"{self.host},localhost",
            "LOG_LEVEL": "WARNING",
            # Customers' emails are rendered and kept in the outbox; with Redis
            # their send tasks are published (nobody consumes them), without it
            # they run in the request, into memory.
            "EMAIL_URL": "locmem://",
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        else:
            env.pop("REDIS_URL", None)
        return env

    def __enter__(self) -> Gunicorn:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(128)
        listener.set_inheritable(True)
        self._socket = listener
        self.port = listener.getsockname()[1]
        LOG.parent.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"fd://{listener.fileno()}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--keep-alive",
            "5",
            # The app is imported once, before the workers fork, instead of by
            # each worker at once: seconds less to start on two busy cores, and
            # the same app in every worker (nothing in it connects at import).
            "--preload",
            "--log-level",
            "warning",
            "--error-logfile",
            str(LOG),
        ]
        with open(LOG, "ab") as log:  # the app's own logging too (401 warnings, …)
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self._env(),
                pass_fds=[listener.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_serving()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_serving(self) -> None:
        """Poll until every worker can answer (an unauthenticated API call: 401)."""
        assert self.process is not None
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        answered = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {LOG.relative_to(ROOT)}"
                )
            connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                connection.request("GET", "/api/v1/orders?external_id=ping")
                status = connection.getresponse().status
            except OSError:
                status = 0
            finally:
                connection.close()
            if status == 401:
                answered += 1
                if answered >= self.workers:  # a fresh connection each: any worker may answer
                    return
                continue
            time.sleep(0.1)  # poll, with the deadline above
        raise RuntimeError(f"gunicorn did not answer within {START_DEADLINE_SECONDS:.0f} s")

    def cpu_seconds(self) -> float:
        """CPU time the master and its workers have used so far (Linux /proc)."""
        if self.process is None:
            return 0.0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids += [int(pid) for pid in children.read_text().split()]
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # a worker that was replaced
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
