"""Load test: many students on one server, against a real `streamlit run`.

Starts the app itself (headless, a free port on 127.0.0.1, its own temporary
SOFTMAX_DATA_DIR and SOFTMAX_CACHE_DIR), then drives at once:

- N "explainer" sessions (default 20), each moving an Explain score slider by 0.01,
  waiting for the rerun to come back, checking the page followed (the exact-score box
  shows the new value, no exception), then pausing for a think time, as a student does.
  By default each session speaks Streamlit's own websocket protocol (the `websockets`
  client library and Streamlit's protobuf messages, exactly what the browser sends),
  so the figure is the server's rerun latency; `--client browser` uses one chromium
  page per session instead (arrow keys on the slider), which adds the page's rendering
  and, on a 2-core machine, lets 20 chromium pages starve the server of CPU.
- 2 "trainer" sessions, real chromium pages on the Train page, training on a copy of
  the real Kaggle sample (hard links made at run time in the temporary data dir, never
  in the repo), retraining with a new split seed each time, for the whole run.

It reports the rerun latency (median, p95, max), reruns per second, trainings, CPU used
by the server and by the whole machine, and errors (timeouts, exceptions shown on a
page, a page that did not follow, tracebacks in the server log); it exits 1 when the
target is missed: no errors and p95 < 1 s.

    python bench/load_test.py                 # 20 explainers + 2 trainers, 60 s
    python bench/load_test.py --quick         # 6 explainers + 2 trainers, 20 s
    python bench/load_test.py --think 3       # students who pause 1.5-4.5 s between moves
    python bench/load_test.py --client browser --sessions 6
    python bench/load_test.py --sessions 30 --duration 120 --json out.json
    python -m bench.load_test --hall --processes 2     # 150 + 4 on 2 app processes behind nginx

--processes N starts N app processes sharing the data and cache folders behind nginx with
deploy/nginx.conf (sticky sessions by a route cookie; each socket session first gets its
cookie from the proxy, as a browser does with the page); --proxy puts nginx in front of a
single process too. --app-root runs a changed copy of the app (a lever measured before it
is made in the repo). The CPU line splits the app processes, their training workers,
nginx and this load generator, which all share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.app_server import AppServer
from harness.browser import launch_options
from harness.proxy import Proxy, route_cookie
from harness.socket_client import (
    OPEN_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    StreamlitSocket,
    open_socket,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("SOFTMAX_SAMPLE_DIR", ROOT.parent / "shared" / "data" / "kaggle-sample"))
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
CLASSES = ["dog", "cat", "boat", "airplane"]  # the Explain page's default classes
WINDOW_S = 10.0  # the report's p95 per window of the run


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # seconds, one per slider rerun
    finished: list[float] = field(default_factory=list)  # perf_counter() when each came back
    trainings: list[float] = field(default_factory=list)  # seconds, one per training
    errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # CPU seconds of the streamlit processes during the run
    worker_cpu: float = 0.0  # CPU seconds of their training worker processes
    proxy_cpu: float = 0.0  # CPU seconds of nginx (0 without the proxy)
    client_cpu: float = 0.0  # CPU seconds of this load generator itself
    machine_cpu: float = 0.0  # CPU seconds of the whole machine (browser, server, anything else)
    load_before: float | None = None  # 1-minute load average before the run
    started: float = 0.0  # perf_counter() when the clock started

    def error(self, who: str, what: str) -> None:
        self.errors.append(f"{who}: {what}")

    def rerun(self, t0: float) -> None:
        """A rerun that started at perf_counter() t0 has just come back."""
        now = time.perf_counter()
        self.latencies.append(now - t0)
        self.finished.append(now)


@dataclass
class Report:
    client: str
    trainer_client: str
    sessions: int
    trainers: int
    think_s: float
    trainer_think_s: float
    duration_s: float
    reruns: int
    median_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    reruns_per_s: float
    trainings: int
    training_median_s: float | None
    errors: int
    error_samples: list[str]
    server_tracebacks: int
    server_cpu_s: float
    worker_cpu_s: float
    proxy_cpu_s: float
    client_cpu_s: float
    server_ms_per_rerun: float | None
    processes: int
    proxy: bool
    machine_cpu_s: float
    cores: int
    load_before: float | None
    passed: bool
    p95_by_window_ms: list[float | None]


# ---------------------------------------------------------------- server and data


def link_sample(dest: Path, sample: Path = SAMPLE) -> Path:
    """The Kaggle sample as hard links (or copies across filesystems) in dest: never in the repo.

    A symlink would not do: core.library refuses folders that resolve outside the data dir.
    """
    if not sample.is_dir():
        raise SystemExit(f"the Kaggle sample is not at {sample} (set SOFTMAX_SAMPLE_DIR)")
    dest.mkdir(parents=True)
    for f in sample.iterdir():
        if f.is_file():
            try:
                os.link(f, dest / f.name)
            except OSError:
                shutil.copy2(f, dest / f.name)
    return dest


# ---------------------------------------------------------------- sessions


async def open_page(browser, url: str, ready: str):
    """A new browser context (a new Streamlit session) on url, once `ready` is on screen.

    The first 'not running' state comes before the script's first run has drawn anything,
    so wait for an element the page draws, then for the script to be idle.
    """
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(OPEN_TIMEOUT_MS)
    await page.goto(url)
    await page.locator(ready).first.wait_for()
    await page.wait_for_selector(IDLE)
    page.set_default_timeout(RERUN_TIMEOUT_MS)
    return page


async def shown_exceptions(page) -> int:
    return await page.get_by_test_id("stException").count()


async def explainer(
    page, i: int, start: asyncio.Event, stop: list[float], think: float, stats: Stats
) -> None:
    """Move one score slider back and forth with the arrow keys; time each rerun."""
    who = f"explainer {i}"
    rng = random.Random(i)
    name = CLASSES[i % len(CLASSES)]
    await start.wait()
    await asyncio.sleep(rng.uniform(0, 1.5) * think)
    stop_at = stop[0]
    thumb = page.get_by_role("slider", name=f"score of {name}")
    box = page.get_by_label(f"exact score of {name}")
    key, moves = "ArrowRight", 0
    try:
        while time.monotonic() < stop_at:
            before = await box.input_value()
            await thumb.focus()
            t0 = time.perf_counter()
            await thumb.press(key)
            try:
                await page.wait_for_function(
                    """([label, before, idle]) => {
                        const box = document.querySelector(`input[aria-label="${label}"]`);
                        return box && box.value !== before && document.querySelector(idle) !== null;
                    }""",
                    arg=[f"exact score of {name}", before, IDLE],
                    polling=20,
                    timeout=RERUN_TIMEOUT_MS,
                )
                stats.rerun(t0)
            except Exception as exc:
                stats.error(who, f"rerun did not come back: {type(exc).__name__}")
                await page.wait_for_selector(IDLE)
            moves += 1
            if moves % 20 == 0:  # back and forth: stay inside the slider's range
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        if await shown_exceptions(page):
            stats.error(who, "an exception is shown on the page")
    except Exception as exc:
        stats.error(who, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await page.context.close()


async def rerun_or_report(sock: StreamlitSocket, state, stats: Stats, who: str, what: str):
    """sock.rerun(state), or None (with the error noted) when it does not come back in time."""
    try:
        return await sock.rerun(state)
    except asyncio.TimeoutError:
        stats.error(who, f"{what} did not come back")
        return None


async def socket_explainer(
    sock: StreamlitSocket, i: int, start: asyncio.Event, stop: list[float], think: float, stats: Stats
) -> None:
    """As explainer(), over the websocket: move a score slider, check the page followed."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    who = f"explainer {i}"
    rng = random.Random(i)
    name = CLASSES[i % len(CLASSES)]
    await start.wait()
    await asyncio.sleep(rng.uniform(0, 1.5) * think)  # students do not all move at the same instant
    step, moves = 0.01, 0
    try:
        while time.monotonic() < stop[0]:
            slider = sock.widgets[f"score of {name}"]
            value = round(sock.widgets[f"exact score of {name}"].value + step, 2)
            state = WidgetState(id=slider.id)
            state.double_array_value.data.append(value)
            t0 = time.perf_counter()
            answer = await rerun_or_report(sock, state, stats, who, "rerun")
            if answer is None:
                return
            widgets, problems = answer
            stats.rerun(t0)
            for p in problems:
                stats.error(who, p)
            shown = widgets[f"exact score of {name}"].value
            if abs(shown - value) > 1e-9:  # the page's callback did not run
                stats.error(who, f"moved the slider to {value}, the page shows {shown}")
            moves += 1
            if moves % 20 == 0:  # back and forth: stay inside the slider's range
                step = -step
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
    except Exception as exc:
        stats.error(who, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await sock.close()


async def trainer(
    page, i: int, start: asyncio.Event, stop: list[float], stats: Stats, dataset: str, think: float = 0.0
) -> None:
    """Train on the Kaggle sample, then retrain with a new split seed, until the time is up,
    pausing `think` seconds on average to look at each result."""
    who = f"trainer {i}"
    rng = random.Random(1000 + i)
    await start.wait()
    stop_at = stop[0]
    try:
        page.set_default_timeout(TRAIN_TIMEOUT_MS)
        box = page.get_by_role("combobox", name="Dataset")
        if not (await box.input_value()).startswith(dataset):
            stats.error(who, f"the dataset {dataset} is not selected: {await box.input_value()!r}")
            return
        seed, first = 42 + i * 1000, True
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            if first:
                await page.get_by_role("button", name="Train", exact=True).click()
                first = False
            else:  # a changed parameter retrains by itself
                seed_box = page.get_by_label("Split seed", exact=True)
                if not await seed_box.is_visible():
                    await page.get_by_text("Parameters (the post's, with fast features)").click()
                seed += 1
                await seed_box.fill(str(seed))
                await seed_box.press("Enter")
            try:  # a training run is long enough to be seen running
                await page.wait_for_selector(RUNNING, timeout=10_000)
            except Exception:
                pass
            await page.wait_for_selector(IDLE, timeout=TRAIN_TIMEOUT_MS)
            results = page.get_by_text(f"Results on {dataset}")
            if await results.count() == 0 or await shown_exceptions(page):
                stats.error(who, "training did not show its results")
                return
            stats.trainings.append(time.perf_counter() - t0)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)  # a look at the results
    except Exception as exc:
        stats.error(who, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await page.context.close()


async def socket_trainer(
    sock: StreamlitSocket,
    i: int,
    start: asyncio.Event,
    stop: list[float],
    stats: Stats,
    dataset: str,
    think: float = 0.0,
) -> None:
    """As trainer(), over the websocket: the server trains and sends the whole results page
    exactly as for a browser; only the drawing of the page is not done here."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    who = f"trainer {i}"
    rng = random.Random(1000 + i)
    await start.wait()
    try:
        box = sock.widgets.get("Dataset")
        shown = (
            None
            if box is None
            else (
                box.raw_value
                if box.HasField("raw_value")
                else box.options[box.default]
                if box.HasField("default")
                else None
            )
        )
        if shown is None or not shown.startswith(dataset):
            stats.error(who, f"the dataset {dataset} is not selected: {shown!r}")
            return
        seed, first = 42 + i * 1000, True
        while time.monotonic() < stop[0]:
            if first:  # click Train
                state = WidgetState(id=sock.widgets["Train"].id, trigger_value=True)
                first = False
            else:  # a changed parameter retrains by itself
                seed += 1
                state = WidgetState(id=sock.widgets["Split seed"].id, int_value=seed)
            t0 = time.perf_counter()
            answer = await rerun_or_report(sock, state, stats, who, "training")
            if answer is None:
                return
            _, problems = answer
            # Headings are Markdown: the dataset's name arrives escaped (kaggle\-sample).
            shown = [h.replace("\\", "") for h in sock.headings]
            if problems or f"Results on {dataset}" not in shown:
                stats.error(who, f"training did not show its results: {problems}"[:300])
                return
            stats.trainings.append(time.perf_counter() - t0)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)  # a look at the results
    except Exception as exc:
        stats.error(who, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await sock.close()


async def drive(
    server: Fleet,
    sessions: int,
    trainers: int,
    duration: float,
    think: float,
    dataset: str,
    client: str = "socket",
    trainer_client: str = "socket",
    trainer_think: float | None = None,
) -> tuple[Stats, float]:
    async with contextlib.AsyncExitStack() as stack:
        browser = None
        if "browser" in (client, trainer_client) and (trainers or client == "browser"):
            browser = await stack.enter_async_context(launch_chromium())
        return await _drive(
            browser,
            server.url,
            server,
            sessions,
            trainers,
            duration,
            think,
            dataset,
            client,
            trainer_client,
            think if trainer_think is None else trainer_think,
        )


@contextlib.asynccontextmanager
async def launch_chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options())
        try:
            yield browser
        finally:
            await browser.close()


async def _drive(
    browser,
    url: str,
    server: Fleet,
    sessions: int,
    trainers: int,
    duration: float,
    think: float,
    dataset: str,
    client: str,
    trainer_client: str,
    trainer_think: float,
) -> tuple[Stats, float]:
    stats = Stats()
    # Open every session first (a class arriving), then start the clock.
    t_open = time.monotonic()
    opened = await asyncio.gather(
        *[
            open_page(browser, url + "/train", "[data-testid='stSelectbox']")
            if trainer_client == "browser"
            else server.socket("train")
            for _ in range(trainers)
        ],
        *[
            open_page(browser, url, "[data-testid='stMetric']") if client == "browser" else server.socket("")
            for _ in range(sessions)
        ],
        return_exceptions=True,
    )
    print(f"opened {len(opened)} sessions in {time.monotonic() - t_open:.1f} s", flush=True)
    for j, pg in enumerate(opened):
        if isinstance(pg, BaseException):
            stats.error(f"session {j}", f"could not open the page: {pg!r}"[:300])
    start, stop = asyncio.Event(), [0.0]
    train_one = trainer if trainer_client == "browser" else socket_trainer
    tasks = [
        train_one(pg, i, start, stop, stats, dataset, trainer_think)
        for i, pg in enumerate(opened[:trainers])
        if not isinstance(pg, BaseException)
    ]
    run_one = explainer if client == "browser" else socket_explainer
    tasks += [
        run_one(pg, i, start, stop, think, stats)
        for i, pg in enumerate(opened[trainers:])
        if not isinstance(pg, BaseException)
    ]
    runs = [asyncio.ensure_future(t) for t in tasks]
    t0 = time.monotonic()
    cpu0, busy0, mine0 = server.cpu(), machine_busy_seconds(), time.process_time()
    stop[0] = t0 + duration
    stats.started = time.perf_counter()
    start.set()
    await asyncio.gather(*runs)
    elapsed = time.monotonic() - t0
    cpu1 = server.cpu()
    stats.server_cpu, stats.worker_cpu, stats.proxy_cpu = (b - a for a, b in zip(cpu0, cpu1))
    stats.client_cpu = time.process_time() - mine0
    stats.machine_cpu = machine_busy_seconds() - busy0
    return stats, elapsed


# ---------------------------------------------------------------- report


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(q / 100 * (len(xs) - 1))))
    return xs[k]


def summarise(stats: Stats, args, elapsed: float, tracebacks: int) -> Report:
    lat = stats.latencies
    ms = (lambda x: round(1000 * x, 1)) if lat else (lambda x: None)
    errors = len(stats.errors) + tracebacks
    p95 = percentile(lat, 95) if lat else None
    return Report(
        client=args.client,
        trainer_client=args.trainer_client,
        sessions=args.sessions,
        trainers=args.trainers,
        think_s=args.think,
        trainer_think_s=args.think if args.trainer_think is None else args.trainer_think,
        duration_s=round(elapsed, 1),
        reruns=len(lat),
        median_ms=ms(statistics.median(lat)) if lat else None,
        p95_ms=ms(p95) if lat else None,
        max_ms=ms(max(lat)) if lat else None,
        reruns_per_s=round(len(lat) / max(elapsed, 1e-9), 2),
        trainings=len(stats.trainings),
        training_median_s=round(statistics.median(stats.trainings), 2) if stats.trainings else None,
        errors=errors,
        error_samples=stats.errors[:10],
        server_tracebacks=tracebacks,
        server_cpu_s=round(stats.server_cpu, 1),
        worker_cpu_s=round(stats.worker_cpu, 1),
        proxy_cpu_s=round(stats.proxy_cpu, 1),
        client_cpu_s=round(stats.client_cpu, 1),
        server_ms_per_rerun=round(1000 * stats.server_cpu / len(lat), 1) if lat else None,
        processes=args.processes,
        proxy=args.processes > 1 or args.proxy,
        machine_cpu_s=round(stats.machine_cpu, 1),
        cores=os.cpu_count() or 1,
        load_before=round(stats.load_before, 2) if stats.load_before is not None else None,
        passed=errors == 0 and bool(lat) and p95 < args.target_p95,
        p95_by_window_ms=windows(stats, WINDOW_S),
    )


def windows(stats: Stats, width: float) -> list[float | None]:
    """p95 of the reruns that came back in each `width`-second window of the run: shows a
    start-up burst, or a slow drift, that one p95 over the whole run hides."""
    if not stats.finished:
        return []
    n = int((max(stats.finished) - stats.started) // width) + 1
    buckets: list[list[float]] = [[] for _ in range(n)]
    for done, lat in zip(stats.finished, stats.latencies):
        buckets[max(0, int((done - stats.started) // width))].append(lat)
    return [round(1000 * percentile(b, 95)) if b else None for b in buckets]


def print_report(r: Report, target: float) -> None:
    print(
        f"sessions: {r.sessions} explainers ({r.client}, pausing ~{r.think_s:g} s between "
        f"moves) + {r.trainers} trainers ({r.trainer_client}, pausing ~{r.trainer_think_s:g} s "
        f"between trainings), {r.duration_s:.0f} s"
    )
    print(f"reruns: {r.reruns} ({r.reruns_per_s:.1f}/s)")
    print(
        f"rerun latency: median {r.median_ms} ms, p95 {r.p95_ms} ms, max {r.max_ms} ms "
        f"(target p95 < {1000 * target:.0f} ms)"
    )
    print(f"p95 per {WINDOW_S:.0f} s of the run, ms: " + " ".join(str(x) for x in r.p95_by_window_ms))
    print(f"trainings on the Kaggle sample: {r.trainings} (median {r.training_median_s} s)")
    capacity = r.cores * r.duration_s
    where = f"{r.processes} app process{'es' if r.processes > 1 else ''}" + (
        " behind nginx" if r.proxy else ""
    )
    print(
        f"CPU: {where} {r.server_cpu_s:.0f} s ({r.server_ms_per_rerun} ms per Explain rerun, trainers' "
        f"pages included), training workers {r.worker_cpu_s:.0f} s, nginx {r.proxy_cpu_s:.0f} s, this "
        f"load generator {r.client_cpu_s:.0f} s; whole machine {r.machine_cpu_s:.0f} s of {capacity:.0f} s "
        f"available ({r.cores} cores); load average before: {r.load_before}"
    )
    print(f"errors: {r.errors} (server tracebacks: {r.server_tracebacks})")
    for e in r.error_samples:
        print(f"  - {e}")
    print("PASS" if r.passed else "FAIL")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used (Linux /proc/stat; 0 elsewhere)."""
    try:
        cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system = (int(x) for x in cpu[:3])
        return (user + nice + system) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return 0.0


class Fleet:
    """N app processes sharing one data folder and one cache folder, and nginx with
    deploy/nginx.conf in front of them when there are several (or when asked)."""

    def __init__(self, n: int, env: dict[str, str], work: Path, proxy: bool, app_root: Path | None = None):
        # One cookie secret for all: any process accepts another's XSRF cookie.
        env = {**env, "STREAMLIT_SERVER_COOKIE_SECRET": os.urandom(16).hex()}
        self.servers = [AppServer(env, work, app_root=app_root) for _ in range(n)]
        self.proxy = Proxy([s.port for s in self.servers], work) if proxy or n > 1 else None
        self.url = self.proxy.url if self.proxy else self.servers[0].url

    def wait_ready(self) -> None:
        for server in self.servers:
            server.wait_healthy(120)
        if self.proxy:
            self.proxy.wait_ready()

    async def socket(self, page: str) -> StreamlitSocket:
        """A new session, through the proxy with its own sticky cookie, as a browser's."""
        cookie = await asyncio.to_thread(route_cookie, self.url) if self.proxy else None
        return await open_socket(self.url, page, cookie=cookie)

    def cpu(self) -> tuple[float, float, float]:
        """(app processes, their training workers, nginx) CPU seconds so far."""
        main = sum(s.cpu_seconds() for s in self.servers)
        tree = sum(s.tree_cpu_seconds() for s in self.servers)
        return main, tree - main, self.proxy.cpu_seconds() if self.proxy else 0.0

    def tracebacks(self) -> int:
        return sum(s.tracebacks() for s in self.servers)

    def stop(self, keep_log: Path | None = None) -> None:
        if self.proxy:
            self.proxy.stop()
        for i, server in enumerate(self.servers):
            server.stop()
            if keep_log:
                suffix = f".{i}" if len(self.servers) > 1 else ""
                shutil.copy(server.log, keep_log.with_name(keep_log.name + suffix))


def run(args) -> Report:
    work = Path(tempfile.mkdtemp(prefix="softmax-load-"))
    try:
        data, cache = work / "data", work / "cache"
        link_sample(data / args.dataset)
        cache.mkdir()
        env = {"SOFTMAX_DATA_DIR": str(data), "SOFTMAX_CACHE_DIR": str(cache)}
        fleet = Fleet(args.processes, env, work, args.proxy, args.app_root)
        try:
            fleet.wait_ready()
            load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            stats, elapsed = asyncio.run(
                drive(
                    fleet,
                    args.sessions,
                    args.trainers,
                    args.duration,
                    args.think,
                    args.dataset,
                    args.client,
                    args.trainer_client,
                    args.trainer_think,
                )
            )
            stats.load_before = load_before
            tracebacks = fleet.tracebacks()
        finally:
            fleet.stop(args.keep_log)
        return summarise(stats, args, elapsed, tracebacks)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="Explain sessions (default 20)")
    ap.add_argument("--trainers", type=int, default=2, help="Train sessions (default 2)")
    ap.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    ap.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between slider moves, seconds (default 1; 0 = flat out)",
    )
    ap.add_argument(
        "--client",
        choices=["socket", "browser"],
        default="socket",
        help="how the Explain sessions talk to the server: 'socket' (default) speaks "
        "Streamlit's websocket protocol, as a browser does, and times the "
        "server's answer; 'browser' uses one chromium page each, which also "
        "times the page's rendering (on a 2-core box the pages starve the server)",
    )
    ap.add_argument(
        "--trainer-client",
        choices=["socket", "browser"],
        default="socket",
        help="how the Train sessions talk to the server: 'socket' (default; the server "
        "trains and sends the whole results page, as for a browser) or 'browser' "
        "(chromium pages on this machine, which also draw the results' charts)",
    )
    ap.add_argument(
        "--trainer-think",
        type=float,
        default=None,
        help="mean pause of a trainer between trainings, to look at the results "
        "(default: the same as --think; 0 = retrain the moment results arrive)",
    )
    ap.add_argument("--quick", action="store_true", help="6 explainers + 2 trainers for 20 s")
    ap.add_argument(
        "--hall", action="store_true", help="a lecture hall: 150 explainers + 4 trainers (issue 15's target)"
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=1,
        help="app processes sharing the data and cache folders; more than 1 puts nginx "
        "(deploy/nginx.conf, sticky sessions) in front of them (default 1)",
    )
    ap.add_argument("--proxy", action="store_true", help="nginx in front even of a single process")
    ap.add_argument(
        "--app-root", type=Path, default=None, help="run a copy of the app from this folder instead"
    )
    ap.add_argument("--target-p95", type=float, default=1.0, help="seconds (default 1)")
    ap.add_argument("--dataset", default="kaggle-sample", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--keep-log", type=Path, help="copy the server log here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sessions, args.duration = 6, 20
    if args.hall:
        args.sessions, args.trainers = 150, 4
    return args


def main(argv=None) -> int:
    args = parse(argv)
    report = run(args)
    print_report(report, args.target_p95)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
