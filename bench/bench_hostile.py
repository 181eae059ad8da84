"""What each hostile input of round two costs now: seconds and peak memory, one child
process per case (so each peak is its own), through the core call a page makes.

    python -m bench.bench_hostile

Prints one row per case: what the app answered, how long it took, the child's peak
resident memory. It does not assert (tests/security/test_round_two.py does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
import io, json, os, resource, sys, time, threading
from pathlib import Path
import numpy as np
from harness.hostile import gigapixel_jpeg, model_header, model_npz, overlapping_zip
from harness.images import CLASS_COLORS, encode, make_image, make_class_folders, make_zip
tmp = Path(sys.argv[1])
os.environ["SOFTMAX_DATA_DIR"] = str(tmp / "data")
os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / "cache")
(tmp / "data").mkdir(parents=True, exist_ok=True)
def answer(fn):
    t0 = time.perf_counter()
    try:
        out = fn()
        said = "accepted: " + str(out)[:80]
    except Exception as exc:
        said = f"{type(exc).__name__}: {exc}"[:110]
    return said, time.perf_counter() - t0
"""

# name -> (code that makes the input files in tmp, code that meets them as the app does).
# Each runs in its own child, so the peak memory is the app's answer's, not the input's.
CASES = {
    "630-byte JPEG declaring 20000 x 20000 (stray byte before SOF)": (
        "(tmp / 'x.jpg').write_bytes(gigapixel_jpeg())",
        """
        from core.images import decode_image
        said, s = answer(lambda: decode_image(tmp / "x.jpg").shape)
        """,
    ),
    "model file with 256^3 bins (0.5 MB, 134 MB of weights)": (
        "(tmp / 'm.npz').write_bytes(model_npz(coef=np.zeros((1, 256**3)), intercept=np.zeros(1), "
        "header=model_header((256, 256, 256))))",
        """
        from core.learn.model import SavedModel
        said, s = answer(lambda: SavedModel.load(tmp / "m.npz"))
        """,
    ),
    "model file with a 500 MB JSON header (0.5 MB)": (
        "(tmp / 'm.npz').write_bytes(model_npz(coef=np.zeros((1, 512)), intercept=np.zeros(1), "
        "header=model_header(pad=500 * 1024**2)))",
        """
        from core.learn.model import SavedModel
        said, s = answer(lambda: SavedModel.load(tmp / "m.npz"))
        """,
    ),
    "model file with datetime64 weights": (
        "(tmp / 'm.npz').write_bytes(model_npz(coef=np.zeros((1, 512), 'datetime64[s]'), "
        "intercept=np.zeros(1), header=model_header()))",
        """
        from core.learn.model import SavedModel
        said, s = answer(lambda: SavedModel.load(tmp / "m.npz"))
        """,
    ),
    "a FIFO and a 1 GiB file planted in .models": (
        """
        folder = tmp / "data" / ".models"
        folder.mkdir(parents=True)
        os.mkfifo(folder / "evil.npz")
        with open(folder / "huge.npz", "wb") as f:
            f.truncate(2**30)
        """,
        """
        from core.learn.saved import list_saved_models
        problems = []
        said, s = answer(lambda: (list_saved_models(problems), [r[:40] for _, r in problems])[1])
        """,
    ),
    "two self-links in a class folder (cat/a -> ., cat/b -> .)": (
        """
        root = make_class_folders(tmp / "data" / "pets", per_class=300)
        (root / "cat" / "a").symlink_to(".")
        (root / "cat" / "b").symlink_to(".")
        """,
        """
        from core.data.dataset import load_dataset
        said, s = answer(lambda: f"{len(load_dataset(tmp / 'data' / 'pets', within=tmp / 'data').paths)} images (600 on disk)")
        """,
    ),
    "a link to /etc/passwd inside a dataset": (
        """
        root = make_class_folders(tmp / "data" / "pets", per_class=5)
        (root / "cat" / "p.jpg").symlink_to("/etc/passwd")
        """,
        """
        from core.data.dataset import load_dataset
        listing = load_dataset(tmp / "data" / "pets", within=tmp / "data")
        said, s = answer(lambda: dict(listing.skipped)[str(tmp / "data" / "pets" / "cat" / "p.jpg")])
        """,
    ),
    "zip claiming 7 entries that holds 60,000": (
        """
        data = bytearray(make_zip([(f"cat/{i}.jpg", b"") for i in range(60_000)]))
        end = data.rfind(b"PK\\x05\\x06")
        data[end + 8 : end + 12] = (7).to_bytes(2, "little") * 2
        (tmp / "z.zip").write_bytes(bytes(data))
        """,
        """
        from core.data.archive import safe_extract_zip
        os.environ["SOFTMAX_MAX_ZIP_FILES"] = "1000"
        said, s = answer(lambda: safe_extract_zip(tmp / "z.zip", tmp / "out"))
        """,
    ),
    "overlapping zip bomb (200 entries, one 4 MB stream)": (
        "(tmp / 'z.zip').write_bytes(overlapping_zip())",
        """
        from core.data.archive import safe_extract_zip
        said, s = answer(lambda: safe_extract_zip(tmp / "z.zip", tmp / "out"))
        """,
    ),
    "500 members just under 1 MiB each": (
        """
        flat = b"\\xff\\xd8\\xff" + b"\\x00" * (1024**2 - 4)
        (tmp / "z.zip").write_bytes(make_zip([(f"cat/{i}.jpg", flat) for i in range(500)]))
        """,
        """
        from core.data.archive import safe_extract_zip
        said, s = answer(lambda: safe_extract_zip(tmp / "z.zip", tmp / "out"))
        """,
    ),
    "4 sessions uploading holiday.zip at once": (
        "(tmp / 'z.zip').write_bytes(make_zip([(f'{c}/{i}.jpg', encode(make_image(CLASS_COLORS[c]))) "
        "for c in ('cat', 'dog') for i in range(3)]))",
        """
        from core.data.library import import_zip
        z, names = (tmp / "z.zip").read_bytes(), []
        def run():
            threads = [threading.Thread(target=lambda: names.append(import_zip(io.BytesIO(z), "holiday.zip").name))
                       for _ in range(4)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            return sorted(names)
        said, s = answer(run)
        """,
    ),
    "a 400 x 70000 PNG on Classify (28 megapixels)": (
        """
        from core.images import color_histogram
        from core.learn.train import train_arrays
        X = [color_histogram(make_image(CLASS_COLORS[c], seed=i, noise=60)) for c in ("cat", "dog") for i in range(20)]
        run = train_arrays(X, ["cat"] * 20 + ["dog"] * 20, with_hinge=False, with_curves=False)
        run.post.model.save(tmp / "m.npz")
        (tmp / "tall.png").write_bytes(encode(make_image(CLASS_COLORS["cat"], size=(70000, 400), noise=5), ".png"))
        """,
        """
        from core.learn.classify import classify_one
        from core.learn.model import SavedModel
        model, tall = SavedModel.load(tmp / "m.npz"), (tmp / "tall.png").read_bytes()
        said, s = answer(lambda: (r := classify_one(model, "tall.png", tall)) and f"{r.predicted}, thumbnail {r.thumbnail is not None}")
        """,
    ),
}


def _child(code: str, tmp: str) -> dict:
    script = (
        SETUP
        + textwrap.dedent(code)
        + (
            "\nprint(json.dumps({'said': said, 's': s, "
            "'mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
        )
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, tmp],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode:
        return {
            "said": "child failed: " + proc.stderr.strip().splitlines()[-1][:100],
            "s": float("nan"),
            "mb": 0,
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_case(make: str, meet: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        made = _child(textwrap.dedent(make) + "\nsaid, s = 'made', 0.0\n", tmp)
        if made["said"] != "made":
            return made
        return _child(meet, tmp)


def main() -> None:
    baseline = run_case("", "said, s = answer(lambda: 'nothing')")
    print(f"baseline child (imports only): {baseline['mb']:.0f} MB\n")
    print(f"{'case':62s} {'seconds':>8s} {'peak MB':>8s}  answer")
    for name, (make, meet) in CASES.items():
        r = run_case(make, meet)
        print(f"{name:62s} {r['s']:8.3f} {r['mb']:8.0f}  {r['said']}")


if __name__ == "__main__":
    main()
