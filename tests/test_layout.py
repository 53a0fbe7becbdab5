"""The dependency rule between the packages, read from the source's imports (``ast``), and the layout.

``bot/core`` imports nothing of ours; ``classifier/`` and ``db/`` import only ``bot.core``; the arXiv
client, the list editor and the GitHub publisher import ``bot.core`` (and ``db``), never each other; the
pipeline may use all of those; the CLI sits on top. Imports inside ``if TYPE_CHECKING:`` count too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "classifier", "db", "migrations")
MAX_MODULE_LINES = 350

# layer -> the layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "bot.core": set(),
    "classifier": {"bot.core"},
    "db": {"bot.core"},
    "bot.arxiv": {"bot.core", "db"},
    "bot.awesome": {"bot.core", "db"},
    "bot.github": {"bot.core", "db"},
    "bot.judge": {"bot.core", "db"},
    "bot.pipeline": {"bot.core", "classifier", "db", "bot.arxiv", "bot.awesome", "bot.github", "bot.judge"},
    "bot.cli": {"bot.core", "classifier", "db", "bot.arxiv", "bot.awesome", "bot.github", "bot.judge",
                "bot.pipeline", "bot"},
    "migrations": {"db", "bot.core"},
    "bot": {"bot.cli"},  # bot/__main__.py
}


def layer(module: str) -> str | None:
    """The layer a dotted module name belongs to (``bot.awesome.parse`` → ``bot.awesome``)."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] == "bot" and len(parts) > 1 and f"bot.{parts[1]}" in ALLOWED:
        return f"bot.{parts[1]}"
    return parts[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every import of one of our packages in ``path`` (the module ``module``): (line, dotted module)."""
    found = []
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if node.module is None or layer(target) is None:
                continue
            # ``from bot import cli`` names a package: count the names too
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names
                      if (ROOT / Path(*target.split("."), alias.name)).is_dir()]
    return [(line, name) for line, name in found if layer(name) is not None]


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")
                  if "versions" not in p.parts)


def violations(path: Path, module: str | None = None) -> list[str]:
    module = module or module_name(path)
    own = layer(module)
    assert own is not None
    allowed = ALLOWED[own] | {own}
    return [f"{module}:{line} imports {name} ({layer(name)} is not allowed in {own})"
            for line, name in our_imports(path, module) if layer(name) not in allowed]


def test_every_module_keeps_the_dependency_rule() -> None:
    broken = [v for path in sources() for v in violations(path)]
    assert not broken, "\n".join(broken)


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    """The check itself: a lazy import of the list editor in a core module is reported, with its line;
    so is a relative one reaching the pipeline from the database layer."""
    probe = tmp_path / "probe.py"
    probe.write_text("from bot.core.errors import BotError\n\n\n"
                     "def f():\n    from bot.awesome import parse\n")
    assert violations(probe, "bot.core.probe") == [
        "bot.core.probe:5 imports bot.awesome (bot.awesome is not allowed in bot.core)"]
    probe.write_text("from ..bot.pipeline import stages\nimport db.store\n")
    assert violations(probe, "db.probe") == [
        "db.probe:1 imports bot.pipeline (bot.pipeline is not allowed in db)"]


@pytest.mark.parametrize("name", ["models", "errors", "labels", "states", "config", "files"])
def test_core_holds_the_bottom_layer(name: str) -> None:
    assert (ROOT / "bot" / "core" / f"{name}.py").is_file()


def test_bot_has_no_module_outside_its_packages() -> None:
    loose = sorted(p.name for p in (ROOT / "bot").glob("*.py")
                   if p.name not in {"__init__.py", "__main__.py"})
    assert loose == []


def test_no_source_module_is_over_the_size_limit() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in sources()}
    assert {path: n for path, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_readme_layout_names_every_package_and_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Layout", 1)[1].split("```", 2)[1]
    words = set(re.findall(r"[\w]+", block))
    modules = sorted(p for p in sources() if not p.name.startswith("__") and p.parts[-2] != "migrations")
    missing = [str(p.relative_to(ROOT)) for p in modules if p.stem not in words]
    packages = [f"{p.name}/" for p in (ROOT / "bot").iterdir() if (p / "__init__.py").is_file()]
    assert missing == [] and [p for p in packages if p not in block] == []
