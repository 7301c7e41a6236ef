"""The architecture as a test: no import cycles, and imports only point down the layers.

Every ``import`` in ``src/turbopix`` is read from the source (function-level imports included, since
a lazy import is still a dependency), resolved to a turbopix module, and checked:

1. the module graph has no cycle (importing ``a.b.c`` also runs the package ``a/b/__init__``, so
   that edge counts too);
2. a module in one part of the library imports only parts of a strictly lower layer (``LAYERS``).
"""
from __future__ import annotations

import ast
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src" / "turbopix"

# Lower layers first. A part may import itself and any part of a lower layer, never one above.
LAYERS: list[set[str]] = [
    {"core"},
    {"data", "metrics"},
    {"models"},
    {"losses", "plots", "sampling", "features"},
    {"training"},
    {"accel"},
    {"loading"},
    {"evaluation"},
    {"api"},
    {"pipelines", "rate"},
    {"demo"},  # shows what the layers below do: trains, evaluates, restores
    {"cli"},
    {"__main__", "__init__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def module_name(path: Path) -> str:
    parts = ["turbopix", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The turbopix modules ``name`` imports (a name imported from a package resolves to the
    submodule when it is one, else to the package)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    edges = {}
    for name, path in modules.items():
        deps = imports_of(name, path, modules)
        # importing a.b.c runs the package a.b's __init__ first, unless the importer is inside a.b
        # already (the root package's __init__ is left out: it is the public API that imports
        # everything, and every module sits under it)
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        for dep in list(deps):
            parts = dep.split(".")
            deps |= {".".join(parts[:i]) for i in range(2, len(parts))} - own
        edges[name] = {d for d in deps if d != name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for d in sorted(edges.get(n, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state and (cycle := visit(n)):
            return cycle
    return None


def part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_part_has_a_layer():
    unknown = sorted({part(m) for m in all_modules()} - set(RANK))
    assert not unknown, f"add these to LAYERS in {__file__}: {unknown}"


def test_imports_point_down():
    bad = []
    for mod, deps in graph().items():
        for dep in deps:
            a, b = part(mod), part(dep)
            if a != b and a in RANK and b in RANK and RANK[b] >= RANK[a]:
                bad.append(f"{mod} imports {dep} ({a} is not above {b})")
    assert not bad, "\n".join(sorted(bad))


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


ISOLATED_IMPORTS = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "turbopix" or m.startswith("turbopix.")]:
        del sys.modules[loaded]  # each module starts from nothing of turbopix (torch stays loaded)
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_each_module_imports_alone():
    """Each module imports first, before any other turbopix module (a cycle that Python tolerates
    in one import order fails in another). One interpreter, turbopix unloaded between modules."""
    import subprocess
    import sys

    names = [m for m in sorted(all_modules()) if not m.endswith("__main__")]  # __main__ runs the CLI
    done = subprocess.run([sys.executable, "-c", ISOLATED_IMPORTS, *names], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
