"""Fixtures for the reliability suite: a real server we can SIGKILL, a slow HTTP mirror,
a tiny disk. The browser, the app server and the page come from tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import Server


class KillableServer(Server):
    """A `streamlit run` in its own process group, so a SIGKILL takes its workers with it,
    as a crash or an out-of-memory kill of the whole container would."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env, new_session=True)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def kill_server_only(self) -> None:
        """SIGKILL the server process alone, as the OOM killer would: its workers see it."""
        self.proc.kill()
        self.proc.wait(10)

    def group_alive(self) -> bool:
        """Is any process of the server's group (its workers) still running?"""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            super().stop()
        try:  # workers of a killed pool, if any survived
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def start_server():
    """start_server() -> a KillableServer on the test's data/cache dirs; all stopped at the end."""
    started: list[KillableServer] = []

    def start(**extra_env) -> KillableServer:
        server = KillableServer(
            {
                "SOFTMAX_DATA_DIR": os.environ["SOFTMAX_DATA_DIR"],
                "SOFTMAX_CACHE_DIR": os.environ["SOFTMAX_CACHE_DIR"],
                **extra_env,
            }
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class SlowHandler(BaseHTTPRequestHandler):
    """Serves server.body at server.rate bytes/s, honouring Range; logs each request."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        rng = self.headers.get("Range")
        srv.log.append(rng)
        start = int(rng[6:-1]) if rng and rng.startswith("bytes=") and rng.endswith("-") else 0
        body = srv.body[start:]
        if start:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(srv.body) - 1}/{len(srv.body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        step = 32 * 1024
        try:
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                if srv.rate:
                    time.sleep(step / srv.rate)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def slow_mirror():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    httpd.body, httpd.rate, httpd.log, httpd.daemon_threads = b"", 0, [], True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/pets.zip"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KB tmpfs; skipped where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a tmpfs for the full-disk tests")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)
