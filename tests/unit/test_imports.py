"""The layering rules, read from the code's own imports (ast): every import counts, lazy ones
inside functions too."""

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("events", "services", "web")


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {
        module_of(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "node_modules" not in path.parts
    }


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules a file imports: `from a.b import c` names a.b.c where that is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


MODULES = our_modules()
GRAPH = {module: imports_of(path, MODULES) - {module} for module, path in MODULES.items()}
PACKAGE_MARKERS = {m for m, p in MODULES.items() if p.name == "__init__.py"}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_ours_imports_itself_back_through_others():
    graph = {m: {t for t in ts if t not in PACKAGE_MARKERS} for m, ts in GRAPH.items()}
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_events_the_published_language_imports_nothing_of_ours():
    outside = {
        (module, target)
        for module, targets in GRAPH.items()
        if module.startswith("events")
        for target in targets
        if not target.startswith("events")
    }
    assert outside == set()


def test_services_import_web_only_in_the_command_line_that_serves_it():
    into_web = {
        (module, target)
        for module, targets in GRAPH.items()
        if module.startswith("services") and module != "services.cli"
        for target in targets
        if target.startswith("web")
    }
    assert into_web == set()


def test_production_code_never_imports_the_demo():
    production = {
        m
        for m in GRAPH
        if not m.startswith("services.demo") and m not in ("services.cli", "services.__main__")
    }
    into_demo = {
        (module, target)
        for module in production
        for target in GRAPH[module]
        if target.startswith("services.demo")
    }
    assert into_demo == set()
    assert "services.demo.serang" in MODULES  # the rule looks at the right place


def test_the_demo_and_its_benchmarks_do_not_import_the_command_line():
    assert {
        m for m, ts in GRAPH.items() if m.startswith("services.demo") and "services.cli" in ts
    } == set()
