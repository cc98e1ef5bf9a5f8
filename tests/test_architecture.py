"""The package's layout holds: each layer imports only the layers below it, no module over 300 lines, no function
over 80 (docs/architecture.md draws the layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nwb_conversions"

#: Each layer (a top-level module or package of nwb_conversions) and the layers it may import.
CORE = {"core"}
ALLOWED_IMPORTS = {
    "core": set(),
    "readers": CORE,
    "layouts": CORE | {"readers"},
    "analysis": CORE,
    "writing": CORE,
    "metadata": CORE | {"readers"},
    "samples": CORE | {"readers", "layouts"},
    "interfaces": CORE | {"readers", "layouts", "analysis", "writing", "metadata"},
    "publishing": CORE | {"writing", "metadata"},
    "datasets": CORE | {"readers", "layouts", "analysis", "writing", "metadata", "samples", "interfaces"},
    "conversion": CORE | {"readers", "writing", "metadata", "publishing", "datasets"},
    "quicklook": CORE | {"metadata", "publishing"},
    "batch": CORE | {"writing", "metadata", "publishing", "datasets", "conversion", "quicklook"},
    "cli": CORE | {"readers", "writing", "metadata", "publishing", "datasets", "conversion", "quicklook", "batch"},
}
CORE_MODULES = {"__init__", "errors", "processes", "resources"}

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 80


def layer_of(module: str) -> str:
    """``nwb_conversions.writing.plan`` → ``writing``; the package root, errors and resources → ``core``."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return "core" if top in CORE_MODULES else top


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def run_time_imports(tree: ast.Module, module: str, is_package: bool):
    """The modules a file imports at run time (``if TYPE_CHECKING:`` blocks left out), absolute."""
    type_checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", None) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("nwb_conversions"):
                # `from . import errors` imports the module errors: resolve names that are modules of the package
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    yield candidate if layer_of(candidate) != layer_of(target) and _is_module(candidate) else target
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("nwb_conversions"))


def _is_module(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_layer_is_known():
    assert {layer_of(module_name(path)) for path in SOURCES} == set(ALLOWED_IMPORTS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_only_the_layers_below_it(path):
    module = module_name(path)
    layer = layer_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = sorted(
        {
            target
            for target in run_time_imports(tree, module, path.name == "__init__.py")
            if layer_of(target) not in ALLOWED_IMPORTS[layer] | {layer}
        }
    )
    assert not upward, f"{module} ({layer}) imports {upward}: allowed {sorted(ALLOWED_IMPORTS[layer])}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, f"{path.name}: {text.count(chr(10))} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: {long}"
