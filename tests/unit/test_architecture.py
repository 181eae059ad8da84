"""The import rules of ARCHITECTURE.md, checked on the source (a rule broken fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "artifacts" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _breaks(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _modules(folder)
        for name in sorted(_imports(p))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("core", ("streamlit", "ui", "pages", "tests", "bench", "harness")),
        ("ui", ("pages", "tests", "bench", "harness")),
        ("pages", ("pages", "tests", "bench", "harness")),
        ("tests", ("bench",)),
        ("bench", ("tests",)),
        ("harness", ("tests", "bench", "ui", "pages")),
    ],
)
def test_rooms_import_only_what_they_may(folder, forbidden):
    assert _breaks(folder, forbidden) == []


def test_the_command_line_uses_core_only():
    assert {n.split(".")[0] for n in _imports(ROOT / "softmax.py")} & {"streamlit", "ui", "pages"} == set()


def test_images_are_decoded_in_core_images_only():
    """One decode gate: the pixel limit and the header checks hold for every image."""
    decoders = ("imdecode", "imread", "imreadmulti")
    found = []
    for folder in ("core", "ui", "pages"):
        for p in _modules(folder):
            if p.parent.name == "images" and p.parent.parent.name == "core":
                continue
            text = p.read_text(encoding="utf-8")
            found += [f"{p.relative_to(ROOT)}: cv2.{d}" for d in decoders if f"cv2.{d}(" in text]
    assert found == []


def test_nothing_edits_sys_path():
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("core", "ui", "pages", "bench", "tests", "harness")
        for p in _modules(folder)
        if "sys.path.insert" in p.read_text(encoding="utf-8") and p.name != "test_architecture.py"
    ]
    assert offenders == []
