"""A guarded statement compiled once for one dialect and set of parameter names, for the paths that
send it straight through the driver (`storage.pg_direct`, `storage.sqlite_direct`): its SQL, and its
arguments in order, each through its column type's own bind processor (UTC timestamps, statuses,
JSON), exactly as SQLAlchemy would send them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import UpdateBase


class Compiled:
    """A statement compiled for one set of parameter names: its SQL and how to build its arguments."""

    def __init__(self, statement: UpdateBase, names: tuple[str, ...], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.postfetch:
            # A Python-side column default or onupdate would be computed by SQLAlchemy's execution
            # context, which this path skips: such a statement must go through `Database.run`.
            raise ValueError("a statement with column defaults computed in Python cannot run directly")
        self.compiled = compiled
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup)
        processors: dict[str, Callable[[Any], Any]] = {}
        for name in self.order:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        self.processors = processors

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(dict(params))  # adds the statement's own literals
        processors = self.processors
        return [processors[name](values[name]) if name in processors else values[name] for name in self.order]


def compiled_for(cache: dict[tuple[int, tuple[str, ...]], Compiled], statement: UpdateBase, params: Mapping[str, Any],
                 dialect: Dialect) -> Compiled:
    """`statement` compiled for `params`' names, from `cache` (filled on first use)."""
    names = tuple(sorted(params))
    key = (id(statement), names)  # the cached `Compiled` keeps the statement, so its id stays its own
    compiled = cache.get(key)
    if compiled is None:
        compiled = cache[key] = Compiled(statement, names, dialect)
    return compiled
