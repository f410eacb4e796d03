"""The registry's tables as the Warehouse page sees them, and the check a table name from a URL must pass.

``elgoose.registry`` (the declarative list of every table) is the source when it exists; until then the
page builds the same list from the step lists it replaces (``endpoints.METHODS``, ``layers.SILVER_TABLES``,
``gold.GOLD_TABLES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

LAYERS = ("bronze", "silver", "gold")
SCHEMAS = {"bronze": "raw_data", "silver": "silver", "gold": "gold"}


@dataclass(frozen=True)
class WarehouseTable:
    layer: str
    name: str
    schema: str
    description: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@cache
def all_tables() -> tuple[WarehouseTable, ...]:
    """Every table of the registry, bronze then silver then gold, each layer in its dependency order."""
    try:
        from elgoose import registry
    except ImportError:
        return _from_step_lists()
    return tuple(
        WarehouseTable(t.layer, t.name, registry.SCHEMAS[t.layer], t.description or "")
        for layer in LAYERS
        for t in registry.tables(layer)
    )


def _from_step_lists() -> tuple[WarehouseTable, ...]:
    from elgoose.endpoints import METHODS
    from elgoose.gold import GOLD_TABLES
    from elgoose.layers import SILVER_TABLES

    names = {"bronze": METHODS, "silver": SILVER_TABLES, "gold": GOLD_TABLES}
    return tuple(WarehouseTable(layer, name, SCHEMAS[layer]) for layer in LAYERS for name in names[layer])


def table(layer: str, name: str) -> WarehouseTable:
    """The registry's table ``name`` of ``layer``; KeyError for any name the registry does not list."""
    for candidate in all_tables():
        if candidate.layer == layer and candidate.name == name:
            return candidate
    known = ", ".join(t.name for t in all_tables() if t.layer == layer)
    raise KeyError(f"{name!r} is not a {layer} table of the registry (known: {known})")
