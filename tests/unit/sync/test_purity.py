"""The decision core stays pure: no async functions, no I/O libraries."""

import ast
from pathlib import Path

import bridge.sync

FORBIDDEN = {"aiohttp", "aiosqlite", "anyio", "asyncio", "socket", "sqlite3", "structlog",
             "bridge.store", "bridge.engine", "bridge.sides", "actors"}


def test_core_has_no_async_and_no_io_imports() -> None:
    package = Path(bridge.sync.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            assert not isinstance(node, ast.AsyncFunctionDef), f"{path.name}: async def"
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), \
                    f"{path.name} imports {name}"
