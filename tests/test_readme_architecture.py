"""The README's architecture section names only paths and modules that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def architecture_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Architecture\n")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_path_in_the_architecture_section_exists():
    paths = set(
        re.findall(r"`((?:ringtest|ami_listener|analysis|tests)/[\w/.]*)`", architecture_section())
    )
    assert paths, "the section names no paths"
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []


def test_every_module_in_the_architecture_section_imports():
    dotted = set(
        re.findall(r"\b((?:ringtest|ami_listener|analysis)(?:\.\w+)+)", architecture_section())
    )
    missing = []
    for name in sorted(dotted):
        module, _, attribute = name, "", ""
        while module:
            try:
                imported = importlib.import_module(module)
                break
            except ModuleNotFoundError:
                module, _, attribute = module.rpartition(".")
        if not module or (attribute and not hasattr(imported, attribute)):
            missing.append(name)
    assert dotted and missing == []
