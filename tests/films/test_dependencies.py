"""The catalogue is the ground floor: reviews build on it, so films never imports reviews (a
hook or a stored column instead, see films.cache and films.models.REVIEW_KEY_FIELDS)."""

import ast
from pathlib import Path

import films

FILMS = Path(films.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            modules.update(
                arg.value
                for arg in node.args[:1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return modules


def test_films_never_imports_reviews():
    offenders = {
        str(path.relative_to(FILMS.parent)): sorted(
            m for m in imported_modules(path) if m == "reviews" or m.startswith("reviews.")
        )
        for path in sorted(FILMS.rglob("*.py"))
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_scan_finds_an_import_of_reviews(tmp_path):
    """The check above can fail: it sees a function-level import like those it replaced."""
    module = tmp_path / "sample.py"
    module.write_text("def published():\n    from reviews.models import Review\n")

    assert "reviews.models" in imported_modules(module)
