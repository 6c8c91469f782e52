"""The import graph of deliveries/ runs one way: no module imports, directly or through
others, a module that imports it back; and no import of the portal's own code hides
inside a function to dodge such a circle (AppConfig.ready, where Django wants signal
receivers connected, is the one exception). Imports under ``if TYPE_CHECKING:`` are
for the type checker and do not run, so they do not count.

Prints each circle or hidden import and exits 1; prints the package arrows with
--packages. Run from the repository's root."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "deliveries"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = current.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # `from . import x` may name a module: count it as that module when it is one.
    return [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, modules: set[str]) -> tuple[set[str], list[str]]:
    """The project modules `path` imports when it runs, and its imports hidden in
    functions."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    hidden: list[str] = []

    def targets(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            candidates = resolve(name, is_package, node)
        else:
            return set()
        resolved = set()
        for candidate in candidates:
            # The nearest enclosing module of the portal: `a.b.c` where only `a.b` exists.
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                resolved.add(candidate)
        return resolved

    def visit(node: ast.AST, in_function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                hit = targets(child)
                if in_function is None:
                    found.update(hit)
                elif hit and in_function != "ready":
                    hidden.append(f"{path.relative_to(ROOT)}:{child.lineno} in {in_function}()")
                elif hit:
                    found.update(hit)
            function = (
                child.name
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                else in_function
            )
            visit(child, function)

    visit(tree, None)
    return found, hidden


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def main() -> int:
    paths = [path for path in sorted((ROOT / APP).rglob("*.py")) if "migrations" not in path.parts]
    modules = {module_name(path) for path in paths}
    graph: dict[str, set[str]] = defaultdict(set)
    hidden: list[str] = []
    for path in paths:
        found, in_functions = imports_of(path, modules)
        graph[module_name(path)] |= found
        hidden += in_functions
    problems = 0
    for component in circles(graph):
        problems += 1
        print("circle: " + " -> ".join(component))
    for place in hidden:
        problems += 1
        print(f"import inside a function: {place}")
    if "--packages" in sys.argv:
        arrows: dict[str, set[str]] = defaultdict(set)
        for source, targets in graph.items():
            for target in targets:
                a, b = source.split(".")[:2], target.split(".")[:2]
                if a != b:
                    arrows[".".join(a)].add(".".join(b))
        for source in sorted(arrows):
            print(f"{source} -> {', '.join(sorted(arrows[source]))}")
    if problems:
        print(
            f"{problems} problem(s): the import graph must run one way (scripts/check_imports.py)."
        )
        return 1
    print(f"Imports run one way: {len(modules)} modules, no circle.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
