"""The production shape on one machine, as processes: an S3-compatible server (moto),
gunicorn, Celery workers and beat, against the PostgreSQL and Redis named by
DATABASE_URL / REDIS_URL.

`make stack` (scripts/stack.sh) runs `python -m config.stackrun`; the full-stack test,
the failure drills and `manage.py bench_webhooks` drive the same `Stack` class, so what
is tested is what ops start. Every process runs in its own process group and `Stack.stop`
ends each group (TERM, then KILL after a grace period), also when a test fails.

Nothing here is imported by the web app or the workers themselves.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
S3_ACCESS = {"S3_ACCESS_KEY_ID": "stack", "S3_SECRET_ACCESS_KEY": "stack", "S3_REGION": "us-east-1"}
S3_BUCKETS = {"S3_PRIVATE_BUCKET": "hc3d-private", "S3_PUBLIC_BUCKET": "hc3d-public"}


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers (any HTTP status). Raises RuntimeError on timeout or when
    `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our loopback URL)
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Stack:
    """Processes of one stack. `env` overrides what the children inherit; `log_dir`
    receives one log file per process (read them when something fails)."""

    database_url: str
    redis_url: str
    port: int = 0
    web_workers: int = 2
    env: dict = field(default_factory=dict)
    log_dir: Path | None = None
    s3_endpoint: str = ""
    procs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="hc3d-stack-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._logs: list = []

    # -- environment ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def child_env(self) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "DEBUG": "false",
                # Plain HTTP on localhost: no TLS terminator in front of this stack.
                "SECURE_SSL_REDIRECT": "false",
                "SECURE_HSTS_SECONDS": "0",
                "SESSION_COOKIE_SECURE": "false",
                "CSRF_COOKIE_SECURE": "false",
                "SITE_URL": self.url,
                "PYTHONPATH": str(BASE_DIR)
                + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.s3_endpoint:
            env.update({"S3_ENDPOINT_URL": self.s3_endpoint, **S3_ACCESS, **S3_BUCKETS})
        env.update(self.env)
        return env

    # -- processes -----------------------------------------------------------------
    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        """Start one long-running process in its own process group, logging to a file."""
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        proc = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            args,
            cwd=BASE_DIR,
            env=self.child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def manage(self, *args: str, timeout: float = 600, env: dict | None = None) -> str:
        """Run a management command to completion with the stack's environment (plus
        `env`)."""
        done = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env={**self.child_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def seed_demo(self) -> str:
        """The demo marketplace, its files uploaded to the stack's storage. Its demo
        purchases are paid inline (tasks eager, no broker for this one command): the
        reviews that follow need those orders PAID before any worker is running."""
        return self.manage("seed_demo", env={"REDIS_URL": "", "CELERY_BROKER_URL": ""})

    def start_s3(self, port: int = 0) -> str:
        """moto's S3 server on loopback with the private and public buckets."""
        port = port or free_port()
        proc = self.spawn(
            "s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        )
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        wait_http(self.s3_endpoint, timeout=30, proc=proc)
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=S3_ACCESS["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ACCESS["S3_SECRET_ACCESS_KEY"],
            region_name=S3_ACCESS["S3_REGION"],
        )
        for bucket in S3_BUCKETS.values():
            client.create_bucket(Bucket=bucket)
        return self.s3_endpoint

    def start_web(self, *, extra: list[str] | None = None) -> subprocess.Popen:
        proc = self.spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.web_workers),
                "--timeout",
                "60",
                *(extra or []),
            ],
        )
        wait_http(self.url + "/healthz", timeout=60, proc=proc)
        return proc

    def start_worker(self, name: str = "worker", *, concurrency: int = 2) -> subprocess.Popen:
        return self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}-{self.port}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> subprocess.Popen:
        schedule = self.log_dir / "celerybeat-schedule"
        return self.spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(schedule),
            ],
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a process's whole group (a Celery worker and its pool children)."""
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self, grace: float = 10.0) -> None:
        """End every process group (TERM, then KILL), newest first. Safe to call twice."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers (pool children)
            proc.wait(timeout=10)
        for log in self._logs:
            log.close()
        self._logs.clear()

    def logs(self, name: str, tail: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--s3-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--no-s3", action="store_true", help="local folders, not S3")
    parser.add_argument("--no-beat", action="store_true")
    parser.add_argument("--no-seed", action="store_true", help="skip seed_demo")
    parser.add_argument("--log-dir", type=Path, default=BASE_DIR / "var" / "stack")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/homecraft3d")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    stack = Stack(
        database_url=database_url,
        redis_url=redis_url,
        port=args.port,
        web_workers=args.web_workers,
        log_dir=args.log_dir,
    )

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        if not args.no_s3:
            # moto keeps objects in memory: a restart starts with empty buckets, so the
            # demo data is seeded again into them below.
            print(f"S3 (moto) at {stack.start_s3(args.s3_port)}", flush=True)
        stack.manage("migrate", "--noinput")
        stack.manage("collectstatic", "--noinput")
        if not args.no_seed:
            print(stack.seed_demo(), flush=True)
        stack.start_worker(concurrency=args.concurrency)
        if not args.no_beat:
            stack.start_beat()
        stack.start_web()
        print(
            f"Stack up: {stack.url}/  (web, worker{'' if args.no_beat else ', beat'}"
            f"{'' if args.no_s3 else ', S3'}); logs in {stack.log_dir}. Ctrl+C stops all.",
            flush=True,
        )
        while True:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl+C / TERM must not interrupt the shutdown half-way.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
