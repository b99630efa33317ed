"""The rooms import only downward: scoring from nobody, storage from no bot code, the domain from no
Telegram adapter, and production code from no tooling (the CLI alone, lazily, inside its commands)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TOOLING = ("bot.bench", "bot.demo", "bot.sandbox")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Each module `path` imports, and whether the import runs only inside a function (lazily)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, lazy: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name, lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: resolve against this package
                    package = module_name(path).split(".")
                    base = package[: len(package) - child.level + (path.name == "__init__.py")]
                    yield ".".join([*base, *([child.module] if child.module else [])]), lazy
                else:
                    yield str(child.module), lazy
            yield from walk(child, lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    yield from walk(tree, False)


def sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offenders(paths: list[Path], forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = ()) -> list[str]:
    return [f"{module_name(p)} imports {name}" for p in paths for name, _ in imports(p)
            if under(name, *forbidden) and not under(name, *allowed)]


def test_scoring_imports_neither_the_bot_nor_storage_nor_any_framework() -> None:
    assert offenders(sources("scoring"), ("bot", "storage", "telegram", "sqlalchemy")) == []


def test_storage_imports_nothing_of_the_bot() -> None:
    assert offenders(sources("storage"), ("bot", "telegram")) == []


def test_the_domain_imports_nothing_of_the_telegram_adapter() -> None:
    assert offenders(sources("bot/domain"), ("bot", "telegram"), allowed=("bot.domain",)) == []


def test_the_sandbox_stands_alone() -> None:
    assert offenders(sources("bot/sandbox"), ("bot", "storage", "scoring"), allowed=("bot.sandbox",)) == []


def test_production_code_imports_tooling_only_from_the_cli_and_only_lazily() -> None:
    production = [p for p in sources("bot") if not under(module_name(p), *TOOLING)]
    found = [f"{module_name(p)} imports {name}" for p in production for name, lazy in imports(p)
             if under(name, *TOOLING) and not (module_name(p) == "bot.cli" and lazy)]
    assert found == []


@pytest.mark.parametrize("package", ["bot", "storage", "scoring"])
def test_no_module_is_over_400_lines(package: str) -> None:
    lines = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in sources(package)}
    assert {name: n for name, n in lines.items() if n >= 400} == {}


def test_the_checks_see_imports_at_every_depth() -> None:
    cli = dict(imports(ROOT / "bot" / "cli.py"))
    assert cli.get("bot.bench.command") is True and cli.get("bot.config") is False
