"""A real `streamlit run streamlit_app.py` on a free local port, for benchmarks and tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """The app with its own data and cache folders (env). new_session=True puts it in its
    own process group, so a SIGKILL of the group takes any worker processes with it."""

    def __init__(
        self, env: dict[str, str], log_dir: Path, new_session: bool = False, app_root: Path | None = None
    ):
        """app_root: a copy of the app to run instead of this checkout (a lever measured
        on a changed page, bench/load_test.py --app-root)."""
        root = Path(app_root) if app_root is not None else ROOT
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"server-{self.port}.log"
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(root / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=root,
            env={**os.environ, **env},
            start_new_session=new_session,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self) -> None:
        stop_process(self.proc)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def tree_cpu_seconds(self) -> float:
        """CPU time of the server and its live child processes (the training worker)."""
        total = self.cpu_seconds()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, ValueError, IndexError):
                pass
        return total

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


def stop_process(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
