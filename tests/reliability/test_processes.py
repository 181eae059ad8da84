"""Several app processes behind nginx (deploy/nginx.conf), sharing one data folder and one
cache folder, as deploy/README.md runs a lecture hall: sticky sessions, and two processes
training the same dataset at the same moment leave a sound cache and sound saved models."""

from __future__ import annotations

import asyncio
import os
import threading

import numpy as np
import psutil
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from core.learn.feature_cache import FeatureCache
from core.learn.model import SavedModel
from harness.app_server import AppServer
from harness.images import write_image
from harness.proxy import Proxy, nginx_found, route_cookie
from harness.socket_client import open_socket

N_IMAGES = 120


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    if nginx_found() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed: .ci/run installs it")
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    work = tmp_path_factory.mktemp("fleet")
    data, cache = work / "data", work / "cache"
    for i in range(N_IMAGES):
        label = "cat" if i % 2 else "dog"
        colour = (30 + (i % 7) * 20, 200 - (i % 2) * 120, 60 + (i % 5) * 30)
        write_image(data / "pets" / f"{label}.{i}.jpg", color_bgr=colour, size=(60, 80), noise=40, seed=i)
    cache.mkdir()
    env = {
        "SOFTMAX_DATA_DIR": str(data),
        "SOFTMAX_CACHE_DIR": str(cache),
        "STREAMLIT_SERVER_COOKIE_SECRET": "one-secret-for-every-process",
    }
    servers = [AppServer(env, work) for _ in range(2)]
    proxy = Proxy([s.port for s in servers], work, workers="1")
    try:
        for s in servers:
            s.wait_healthy(120)
        proxy.wait_ready()
        yield proxy, servers, data, cache
    finally:
        proxy.stop()
        for s in servers:
            s.stop()


def sessions_on(server: AppServer) -> int:
    """Websockets the proxy holds open to this app process."""
    conns = psutil.Process(server.proc.pid).net_connections(kind="tcp")
    return sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port)


async def _open(url: str, page: str, cookie: str):
    return await open_socket(url, page, cookie=cookie)


def test_each_session_stays_on_one_process_and_sessions_spread(fleet):
    proxy, servers, _, _ = fleet

    async def go():
        cookies = [route_cookie(proxy.url) for _ in range(12)]
        assert len(set(cookies)) == 12  # a new browser gets a new route
        socks = [await _open(proxy.url, "", c) for c in cookies]
        try:
            counts = [sessions_on(s) for s in servers]
            assert sum(counts) == 12 and min(counts) >= 1, counts  # both processes serve
            for sock in socks:  # every session keeps answering on the process that holds it
                slider = sock.widgets["score of dog"]
                state = WidgetState(id=slider.id)
                value = round(sock.widgets["exact score of dog"].value + 0.01, 2)
                state.double_array_value.data.append(value)
                widgets, problems = await sock.rerun(state)
                assert problems == [] and abs(widgets["exact score of dog"].value - value) < 1e-9
            assert [sessions_on(s) for s in servers] == counts
        finally:
            for sock in socks:
                await sock.close()

    run_async(go())


def test_two_processes_training_one_dataset_at_once_leave_a_sound_cache_and_models(fleet):
    proxy, servers, data, cache = fleet

    async def trainer_on(server_index: int):
        """A Train session that the proxy put on the given process."""
        for _ in range(40):
            cookie = route_cookie(proxy.url)
            before = sessions_on(servers[server_index])
            sock = await _open(proxy.url, "train", cookie)
            if sessions_on(servers[server_index]) > before:
                return sock
            await sock.close()
        raise AssertionError("the proxy never routed a new session to this process")

    async def go():
        socks = [await trainer_on(0), await trainer_on(1)]
        try:
            for sock in socks:
                shown = sock.widgets["Dataset"]
                assert (shown.options[shown.default] if shown.HasField("default") else "").startswith("pets")
            clicks = [WidgetState(id=s.widgets["Train"].id, trigger_value=True) for s in socks]
            answers = await asyncio.gather(*(s.rerun(c) for s, c in zip(socks, clicks)))
            for sock, (_, problems) in zip(socks, answers):
                assert problems == []
                assert "Results on pets" in [h.replace("\\", "") for h in sock.headings]
        finally:
            for sock in socks:
                await sock.close()

    run_async(go())
    # The shared cache: every chunk whole and valid, one row per image, nothing left over.
    fc = FeatureCache(cache, (8, 8, 8), True).load()
    assert fc.notes == [] and len(fc) == N_IMAGES
    assert not list(fc.dir.glob(".tmp-*"))
    # The shared saved models: each file whole and loadable, as the Classify page loads it.
    models = sorted((data / ".models").glob("*.npz"))
    assert models and not list((data / ".models").glob(".*tmp*"))
    for path in models:
        model = SavedModel.load(path)
        assert model.classes == ("cat", "dog")
        assert np.isfinite(model.coef).all()
    for s in servers:
        assert s.tracebacks() == 0


def run_async(coroutine) -> None:
    """asyncio.run in a thread of its own: the browser tests' sync Playwright keeps an event
    loop running in the main thread for the whole session."""
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # raised again in the test's own thread
            failure.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "the sessions did not finish in 300 s"
    if failure:
        raise failure[0]
