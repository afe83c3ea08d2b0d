"""The package's layout holds: stages import only earlier stages, and no module imports in a circle.

The order is the order data flows (docs/architecture.md): shared foundations, pure value parsing,
load, mapping, validate, events, prepare, ledger, plan, client, send, report, pipeline, then the
callers (assistant, sandbox, web page, CLI). Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "importer"

# Each stage may import its own modules and those of earlier stages only.
STAGES: list[tuple[str, ...]] = [
    (
        "importer.errors",
        "importer.outcomes",
        "importer.progress",
        "importer.files",
        "importer.memory",
        "importer.workers",
        "importer.own_process",
    ),
    ("importer._version", "importer.serving", "importer.paths", "importer.lazy"),
    ("importer.values",),
    ("importer.load",),
    ("importer.mapping",),
    ("importer.validate",),
    ("importer.events",),
    (
        "importer.appointments",
        "importer.prepare",
        "importer.file_keys",
        "importer.file_facts",
        "importer.warm_up",
    ),
    ("importer.ledger",),
    (
        "importer.guard",
        "importer.plan",
        "importer.plan_options",
        "importer.calendars",
        "importer.cancels",
        "importer.reschedules",
        "importer.still_live",
        "importer.zeros_dropped",
    ),
    ("importer.client",),
    ("importer.send",),
    ("importer.report",),
    ("importer.parts_done",),
    (
        "importer.streaming",
        "importer.part_sending",
        "importer.pipeline",
        "importer.several_sheets",
        "importer.worker_preload",
    ),
    ("importer.exit_codes",),
    ("importer.assist",),
    ("importer.sandbox",),
    ("importer.web",),
    ("importer.cli", "importer.demo"),
    ("importer", "importer.__main__"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> int:
    """The stage a module belongs to: the longest stage prefix that names it."""
    best, best_length = -1, -1
    for rank, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_length and prefix != "importer":
                best, best_length = rank, len(prefix)
    if best == -1 and module in ("importer", "importer.__main__"):
        return len(STAGES) - 1
    return best


def resolve(module: str, known: dict[str, Path]) -> str:
    """``importer.x.y`` as the module file it is (``importer.x`` when y is a name in x)."""
    while module not in known and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "importer":
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in known else resolve(target, known))
        elif isinstance(node, ast.Import):
            found |= {
                resolve(a.name, known) for a in node.names if a.name.split(".")[0] == "importer"
            }
    found.discard(me)
    return found


GRAPH = {name: imports_of(path, modules()) for name, path in modules().items()}


def test_every_module_has_a_stage() -> None:
    assert [m for m in GRAPH if stage_of(m) < 0] == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_stage_imports_only_earlier_stages(module: str) -> None:
    later = [
        target
        for target in sorted(GRAPH[module])
        if stage_of(target) > stage_of(module)
        # A package's face may import its own modules.
        and not target.startswith(module + ".")
    ]
    assert later == [], f"{module} imports later stages: {later}"


def test_no_module_imports_in_a_circle() -> None:
    # Tarjan's strongly connected components; a component of two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in GRAPH:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    # A package face and its own modules are not a circle of the design: a module that imports
    # a sibling through the face is, so faces are kept in the graph.
    assert circles == []
