"""How the code is laid out, read from its own imports: every import points down the floors, no
two modules import each other (even through a function), and every file reads in one sitting."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "tests", "bench", "migrations", "node_modules", "instance", "deploy"}

# From the ground up; a module imports only from its own floor or below. A new top-level module or
# package gets a floor here (the test fails until it has one).
FLOORS = {
    "extensions": 0,
    "dbtypes": 0,
    "config": 0,
    "migrations_filter": 0,
    "matching": 0,
    "i18n": 0,
    "errors": 1,
    "input_rules": 1,
    "addresses": 1,
    "pagination": 1,
    "mail_transport": 1,
    "mail_outbox": 1,
    "public_links": 1,
    "formatting": 1,
    "forms": 1,
    "logs": 1,
    "web": 2,
    "accounts": 3,
    "campaign": 4,
    "contacts": 5,
    "mailings": 6,
    "press": 7,
    "bounces": 7,
    "dashboard": 8,
    "demo": 8,
    "printing": 8,
    "operations": 9,
    "app": 10,
}
MAX_LINES = 500


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in SKIPPED or any(part.startswith(".") for part in parts):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def imports_of(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each import of a Relais module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in child.names]
            else:
                visit(child, inside)
                continue
            for target in dict.fromkeys(targets):
                if target.split(".")[0] in FLOORS or target in MODULES:
                    found.append((target, child.lineno, in_function))

    visit(tree, False)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def floor(name: str) -> int:
    return FLOORS[name.split(".")[0]]


def test_every_top_level_module_has_a_floor():
    assert sorted({name.split(".")[0] for name in MODULES} - set(FLOORS)) == []


def test_every_import_points_down():
    upward = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target} (floor {floor(target)} > {floor(name)})"
        for name, found in GRAPH.items()
        for target, line, _inside in found
        if floor(target) > floor(name)
    ]
    assert upward == []


def test_no_import_inside_a_function_reaches_another_package():
    """An import placed in a function to dodge a circle hides the circle: imports sit at the top."""
    hidden = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target} in a function"
        for name, found in GRAPH.items()
        for target, line, inside in found
        if inside and target.split(".")[0] != name.split(".")[0]
    ]
    assert hidden == []


def test_no_import_circle():
    edges = {name: {target for target, _line, _inside in found if target in MODULES} for name, found in GRAPH.items()}
    circles, state = [], {}

    def walk(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                circles.append(" → ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                walk(target, [*trail, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    assert circles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_reads_in_one_sitting(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines"


def test_tests_read_in_one_sitting_too():
    long = [
        p.name for p in (ROOT / "tests").rglob("*.py") if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    ]
    assert long == []
