"""The import graph is layered: a module imports only from its own layer or below.

Data flows one way (README "Architecture"): the core (records, standards,
calendar, errors, the record stream) is a leaf; the pure stages, the SIP layer,
the store and the settings model sit on it; analysis and outputs read records;
sources publish them; services host sources and sinks; the CLI and the lab sit
on top. The test reads every module's imports with `ast` (module-level and
function-level alike) and fails on any arrow that points back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ringtest", "ami_listener", "analysis")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("ringtest.core",),
    ("ami_listener", "ringtest.sip", "ringtest.store"),
    ("ringtest.config",),
    ("analysis", "ringtest.outputs"),
    ("ringtest.sources",),
    ("ringtest.services", "ringtest.campaigns", "ringtest.web"),
    ("ringtest.cli", "ringtest.lab", "ringtest.__main__", "ringtest"),
)
"""Layers from the bottom up; each entry is a module prefix (longest prefix wins)."""

SAME_LAYER_FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("ami_listener", "ringtest.store"),
    ("ami_listener", "ringtest.sip"),
    ("ringtest.sip", "ringtest.store"),
    ("ringtest.sip", "ami_listener"),
    ("ringtest.store", "ami_listener"),
    ("ringtest.store", "ringtest.sip"),
)
"""Pairs inside one layer that must not import each other: the pure stages stay apart."""


def layer_of(module: str) -> int:
    """The index in `LAYERS` of the longest prefix that names `module`."""
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            longer = best is None or len(prefix) > best[1]
            if _prefix_in(module, prefix) and longer:
                best = (index, len(prefix))
    if best is None:
        raise LookupError(f"{module} is in no layer: add it to LAYERS")
    return best[0]


def _prefix_in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def back_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Every import in `graph` (module -> imported modules) that points up a layer,
    or across a forbidden pair inside one."""
    problems = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            if layer_of(target) > layer_of(module):
                problems.append(f"{module} imports {target} (a higher layer)")
            for low, other in SAME_LAYER_FORBIDDEN:
                if _prefix_in(module, low) and _prefix_in(target, other):
                    problems.append(f"{module} imports {target} (kept apart)")
    return problems


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> set[str]:
    """Modules of our own packages that the file at `path` imports, anywhere in it."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        imported |= {name for name in names if name.split(".")[0] in PACKAGES}
    return imported


def import_graph() -> dict[str, set[str]]:
    return {
        module_name(path): project_imports(path)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }


def test_no_module_imports_a_higher_layer():
    assert back_arrows(import_graph()) == []


def test_every_module_is_in_a_layer():
    for module in import_graph():
        layer_of(module)


def test_core_importing_config_is_a_back_arrow():
    graph = {"ringtest.core.standards": {"ringtest.config.models"}}
    assert back_arrows(graph) == [
        "ringtest.core.standards imports ringtest.config.models (a higher layer)"
    ]


def test_config_importing_core_is_allowed():
    assert back_arrows({"ringtest.config.models": {"ringtest.core.standards"}}) == []


def test_listener_importing_the_store_is_refused():
    assert back_arrows({"ami_listener.tracker": {"ringtest.store.store"}}) == [
        "ami_listener.tracker imports ringtest.store.store (kept apart)"
    ]


@pytest.mark.parametrize(
    "module",
    [
        "ringtest.core.records",
        "ringtest.core.standards",
        "ringtest.core.calendar",
        "ringtest.core.errors",
        "ringtest.core.stream",
    ],
)
def test_core_imports_only_core(module):
    imported = import_graph()[module]
    assert all(name.startswith("ringtest.core") for name in imported), imported
