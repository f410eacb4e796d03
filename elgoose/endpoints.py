"""The ElGoose API methods pulled into bronze (the registry's bronze tables), and how a record's key is read."""

from __future__ import annotations

from dataclasses import dataclass

from elgoose import registry


@dataclass(frozen=True)
class Endpoint:
    method: str
    key_fields: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"{self.method}.json"

    def external_id(self, record: dict) -> str | None:
        """The record's natural key as text, or None when a key field is missing or empty."""
        if not self.key_fields:
            return None
        parts = []
        for field in self.key_fields:
            value = record.get(field)
            if value is None or value == "" or isinstance(value, (dict, list, bool)):
                return None
            parts.append(str(value))
        return "|".join(parts)


ENDPOINTS: dict[str, Endpoint] = {t.name: Endpoint(t.name, t.key) for t in registry.tables("bronze")}
METHODS: tuple[str, ...] = registry.METHODS
