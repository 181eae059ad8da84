"""deploy/nginx.conf in front of several app processes, on free local ports.

The load test and the multi-process tests run the shipped config itself, with only its
ports replaced: the listen line and the upstream's server lines.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from harness.app_server import ROOT, free_port, stop_process

CONFIG = ROOT / "deploy" / "nginx.conf"
COOKIE = "softmax_route"


def nginx_found() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def render(upstream_ports: list[int], port: int, workers: str = "auto") -> str:
    """deploy/nginx.conf with its listen port and upstream servers replaced."""
    text = CONFIG.read_text()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstream_ports)
    text, n = re.subn(
        r"(?m)^        server 127\.0\.0\.1:\d+ .*;\n(?:        server 127\.0\.0\.1:\d+ .*;\n)*",
        servers + "\n",
        text,
    )
    if n != 1:
        raise RuntimeError("deploy/nginx.conf: the upstream's server lines were not found")
    text, n = re.subn(r"(?m)^        listen \d+;", f"        listen 127.0.0.1:{port};", text)
    if n != 1:
        raise RuntimeError("deploy/nginx.conf: the listen line was not found")
    return re.sub(r"(?m)^worker_processes \w+;", f"worker_processes {workers};", text)


class Proxy:
    """nginx with deploy/nginx.conf, its prefix (pid, logs, temp files) in work_dir."""

    def __init__(self, upstream_ports: list[int], work_dir: Path, workers: str = "auto"):
        binary = nginx_found()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install -y nginx-light)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(work_dir) / f"nginx-{self.port}"
        self.dir.mkdir(parents=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(render(upstream_ports, self.port, workers))
        self.log = self.dir / "error.log"
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.dir), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "stderr.log").open("wb"),
        )

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.dir / 'stderr.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start listening in time")

    def cpu_seconds(self) -> float:
        """CPU time of nginx's master and worker processes so far (Linux /proc)."""
        pids = [self.proc.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                pass
        return sum(process_cpu_seconds(p) for p in pids)

    def stop(self) -> None:
        stop_process(self.proc)


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def route_cookie(url: str) -> str:
    """The sticky-session cookie the proxy gives a new browser ('name=value'), as a
    browser gets it with the page: from a first plain HTTP response."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as r:
        for header in r.headers.get_all("Set-Cookie") or []:
            if header.startswith(COOKIE + "="):
                return header.split(";", 1)[0]
    raise RuntimeError(f"{url} set no {COOKIE} cookie: is it the proxy?")
