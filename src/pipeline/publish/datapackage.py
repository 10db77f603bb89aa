"""Frictionless Data Package descriptor, derived from the table declarations."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipeline.schemas import TABLES, Field


def _frictionless_type(type_: pa.DataType) -> str:
    if pa.types.is_integer(type_):
        return "integer"
    if pa.types.is_floating(type_):
        return "number"
    if pa.types.is_date(type_):
        return "date"
    if pa.types.is_boolean(type_):
        return "boolean"
    if pa.types.is_list(type_):
        return "array"
    return "string"


def _field(field: Field) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": field.name,
        "type": _frictionless_type(field.type),
        "description": field.description,
    }
    constraints: dict[str, Any] = {}
    if not field.nullable:
        constraints["required"] = True
    if field.values:
        constraints["enum"] = list(field.values)
    if constraints:
        described["constraints"] = constraints
    return described


def datapackage(version: str, tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Descriptor with one resource per table file; ``tables`` is the manifest's entry."""
    resources = []
    for name, info in sorted(tables.items()):
        table = TABLES[name]
        schema: dict[str, Any] = {"fields": [_field(f) for f in table.fields]}
        if table.primary_key:
            schema["primaryKey"] = list(table.primary_key)
        resources.append(
            {
                "name": name,
                "path": info["path"],
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "bytes": info["bytes"],
                "hash": f"sha256:{info['sha256']}",
                "description": table.description,
                "schema": schema,
            }
        )
    return {
        "name": "bilateral-relations-facts",
        "title": "Source-traceable facts from public diplomatic documents",
        "version": version,
        "licenses": [
            {
                "name": "other-pd",
                "title": "Sources are US government works "
                "(public domain in the US); see the dataset card.",
            }
        ],
        "resources": resources,
    }
