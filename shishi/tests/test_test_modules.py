"""No test module imports another: helpers shared by tests live in shishi/testing.py and shared
fixtures in a conftest.py, so each test module can be read, run and changed on its own."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_DIRS = ("shishi", "tests")


def is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def imported_test_modules(source: str) -> list[str]:
    """The test modules ``source`` imports, relative (``.test_services``) or absolute."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if is_test_module(node.module or ""):
                found.append(module)
            elif node.level or "tests" in module.split("."):
                # ``from . import test_services``: a module of a tests package, named in the list
                sep = "" if module.endswith(".") else "."
                found += [
                    f"{module}{sep}{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("test_")
                ]
    return found


def every_test_module() -> list[Path]:
    return sorted(path for d in TEST_DIRS for path in (ROOT / d).rglob("test_*.py"))


@pytest.mark.parametrize(
    "source, found",
    [
        ("from .test_services import item, programme", [".test_services"]),
        ("from . import test_services", [".test_services"]),
        ("from ..tests import test_services", ["..tests.test_services"]),
        (
            "from shishi.portal.tests.test_commitments import item",
            ["shishi.portal.tests.test_commitments"],
        ),
        (
            "from shishi.portal.tests import test_commitments as c",
            ["shishi.portal.tests.test_commitments"],
        ),
        ("import shishi.portal.tests.test_commitments", ["shishi.portal.tests.test_commitments"]),
        ("def f():\n    from .test_history import year", [".test_history"]),
        ("from conftest import make_user\nfrom shishi.testing import number", []),
        ("import django.test\nfrom django.test.utils import CaptureQueriesContext", []),
    ],
)
def test_an_import_of_a_test_module_is_found(source, found):
    assert imported_test_modules(source) == found


def test_no_test_module_imports_another():
    modules = every_test_module()
    assert Path(__file__).resolve() in modules
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in modules
        if (names := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move what they share to shishi/testing.py or a conftest.py"
