"""core.download against a real HTTP server on 127.0.0.1 (never the real Microsoft URL)."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.data import download as dl
from core.data.download import DownloadError, download, fetch_petimages, partial_bytes, petimages_url
from core.data.library import list_datasets
from core.dataset import load_dataset
from harness.images import encode, make_image

PAYLOAD = os.urandom(300_000)


class Route:
    """What the server does for one path: its body, and how it misbehaves."""

    def __init__(self, body=b"", status=200, drops=0, ranges=True, fail_status=None, fails=0):
        self.body, self.status = body, status
        self.drops = drops  # this many responses stop halfway through the body
        self.ranges = ranges  # honours Range requests
        self.fail_status, self.fails = fail_status, fails  # answer fail_status this many times


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        server = self.server
        server.log.append((self.path, self.headers.get("Range")))
        route = server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        if route.fails:
            route.fails -= 1
            self.send_error(route.fail_status)
            return
        start = 0
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if m and route.ranges:
            start = int(m.group(1))
            if start >= len(route.body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(route.body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(route.body) - 1}/{len(route.body)}")
        else:
            self.send_response(route.status)
        body = route.body[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route.drops:
            route.drops -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.log = {}, []
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.url = lambda path: f"http://127.0.0.1:{httpd.server_address[1]}{path}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def petimages_zip(n=4) -> bytes:
    """Microsoft's layout in miniature, with its kinds of bad files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for cls, colour in (("Cat", (30, 60, 200)), ("Dog", (200, 120, 30))):
            for i in range(n):
                zf.writestr(f"PetImages/{cls}/{i}.jpg", encode(make_image(colour, seed=i)))
            zf.writestr(f"PetImages/{cls}/Thumbs.db", b"\0" * 64)
        zf.writestr("PetImages/Cat/666.jpg", b"")  # empty, as in the real zip
        zf.writestr("PetImages/Dog/11702.jpg", b"")
        zf.writestr("PetImages/Dog/bad.jpg", b"<html>not a jpeg</html>")
        zf.writestr("CDLA-Permissive-2.0.pdf", b"%PDF-1.4")
        zf.writestr("readme[1].txt", b"readme")
    return buf.getvalue()


def test_download_streams_with_progress(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD)
    seen = []
    out = download(server.url("/f.bin"), tmp_path / "f.bin", progress=lambda d, t: seen.append((d, t)))
    assert out.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not (tmp_path / "f.bin.part").exists()


def test_dropped_connection_resumes_with_range(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD, drops=2)
    out = download(server.url("/f.bin"), tmp_path / "f.bin", backoff=0)
    assert out.read_bytes() == PAYLOAD
    ranges = [r for _p, r in server.log]
    assert ranges[0] is None
    assert ranges[1] == f"bytes={len(PAYLOAD) // 2}-"
    assert len(server.log) == 3


def test_partial_file_from_an_earlier_run_is_resumed(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD)
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:1000])
    download(server.url("/f.bin"), tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert server.log == [("/f.bin", "bytes=1000-")]


def test_complete_part_file_is_accepted_on_416(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD)
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD)
    download(server.url("/f.bin"), tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD, drops=1, ranges=False)
    out = download(server.url("/f.bin"), tmp_path / "f.bin", backoff=0)
    assert out.read_bytes() == PAYLOAD  # not half a file twice
    assert len(server.log) == 2 and server.log[1][1] is not None


def test_404_is_a_clear_error_without_retries(server, tmp_path):
    with pytest.raises(DownloadError, match="answered 404.*SOFTMAX_PETIMAGES_URL"):
        download(server.url("/missing.zip"), tmp_path / "m.zip", backoff=0)
    assert len(server.log) == 1
    assert not (tmp_path / "m.zip").exists()


def test_server_errors_are_retried(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD, fail_status=503, fails=2)
    assert download(server.url("/f.bin"), tmp_path / "f.bin", backoff=0).read_bytes() == PAYLOAD


def test_a_connection_that_keeps_dropping_gives_up_and_keeps_the_part(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD, drops=100)
    with pytest.raises(DownloadError, match="kept failing.*next try resumes"):
        download(server.url("/f.bin"), tmp_path / "f.bin", retries=2, backoff=0)
    assert len(server.log) == 3
    kept = (tmp_path / "f.bin.part").read_bytes()
    assert 0 < len(kept) < len(PAYLOAD) and PAYLOAD.startswith(kept)


def test_unreachable_server_and_bad_urls(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nobody listens
    with pytest.raises(DownloadError, match="kept failing"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", retries=1, backoff=0, timeout=2)
    for bad in ("file:///etc/passwd", "ftp://example.org/x", "", None):
        with pytest.raises(DownloadError, match="Not an http"):
            download(bad, tmp_path / "x")


def test_a_second_download_of_the_same_file_is_refused(server, tmp_path):
    server.routes["/f.bin"] = Route(PAYLOAD)
    with dl._exclusive(tmp_path / "f.bin"):
        with pytest.raises(DownloadError, match="already being downloaded"):
            download(server.url("/f.bin"), tmp_path / "f.bin")
    download(server.url("/f.bin"), tmp_path / "f.bin")


def test_petimages_url_defaults_to_microsoft_and_env_overrides(monkeypatch):
    monkeypatch.delenv("SOFTMAX_PETIMAGES_URL", raising=False)
    assert petimages_url() == (
        "https://download.microsoft.com/download/3/E/1/"
        "3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"
    )
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", "http://mirror.example/pets.zip")
    assert petimages_url() == "http://mirror.example/pets.zip"
    assert petimages_url("http://given/x.zip") == "http://given/x.zip"


def test_fetch_petimages_end_to_end_with_a_dropped_connection(server, monkeypatch):
    data = Path(os.environ["SOFTMAX_DATA_DIR"])
    server.routes["/pets.zip"] = Route(petimages_zip(), drops=1)
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", server.url("/pets.zip"))
    steps = []
    result = fetch_petimages(
        progress=lambda d, t: None, extract_progress=lambda d, t: steps.append(d), backoff=0
    )
    assert result.path == data / "kaggle-cats-and-dogs"
    assert result.report.extracted == 8
    assert result.bad_files == 3  # two empty files and one that is not a JPEG
    assert steps and steps[-1] == len(zipfile.ZipFile(io.BytesIO(petimages_zip())).infolist())
    ds = load_dataset(result.path)
    assert ds.layout == "petimages" and ds.counts() == {"Cat": 4, "Dog": 4}
    infos, problems = list_datasets()
    assert [i.name for i in infos] == ["kaggle-cats-and-dogs"] and problems == []
    assert not any((data / ".downloads").glob("*.zip")) and partial_bytes() == 0
    again = fetch_petimages(backoff=0)
    assert again.already_there and len(server.log) == 2


def test_fetch_petimages_corrupt_zip_is_deleted_and_reported(server):
    data = Path(os.environ["SOFTMAX_DATA_DIR"])
    server.routes["/pets.zip"] = Route(b"<html>Service unavailable</html>" * 100)
    with pytest.raises(DownloadError, match="not a usable zip, so it was deleted"):
        fetch_petimages(url=server.url("/pets.zip"), backoff=0)
    assert not (data / "kaggle-cats-and-dogs").exists()
    assert not any((data / ".downloads").glob("*.zip"))
    assert list_datasets() == ([], [])


def test_fetch_petimages_404(server):
    with pytest.raises(DownloadError, match="404"):
        fetch_petimages(url=server.url("/nope.zip"), backoff=0)


def test_fetch_petimages_limit_breach_keeps_the_download(server, monkeypatch):
    server.routes["/pets.zip"] = Route(petimages_zip())
    monkeypatch.setenv("SOFTMAX_MAX_ZIP_FILES", "3")
    with pytest.raises(DownloadError, match="kept at .*SOFTMAX_MAX_ZIP_FILES"):
        fetch_petimages(url=server.url("/pets.zip"), backoff=0)
    monkeypatch.delenv("SOFTMAX_MAX_ZIP_FILES")
    result = fetch_petimages(url=server.url("/pets.zip"), backoff=0)
    assert result.report.extracted == 8 and len(server.log) == 1  # not downloaded twice
