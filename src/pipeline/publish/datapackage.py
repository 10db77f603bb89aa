"""Frictionless Data Package descriptor, derived from the table declarations.

Checked with frictionless 5 (``frictionless validate datapackage.json`` passes on a
release: metadata, every row against its schema, primary keys). frictionless 5 reads
Parquet through pyarrow and pandas, which shapes two choices:

- it never streams a Parquet file's bytes, so it cannot check a resource's ``bytes``
  or ``hash``; ``bytes`` is left out (it would always be reported as a byte-count
  error), the ``hash`` is kept (``sha256:...``) and ``pipeline verify`` checks it,
  with the sizes in ``manifest.json``;
- it hands list cells over as numpy arrays, which its ``array`` type rejects, so list
  columns are declared ``any``. Every field also carries its exact Arrow type in
  ``arrowType`` (a custom property, allowed by Table Schema), lists included.

The package keeps the default ``data-package`` profile: ``tabular-data-package`` would
require CSV or inline JSON resources.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipeline.schemas import TABLES, Field

NAME = "bilateral-relations-facts"
TITLE = "Source-traceable facts from public diplomatic documents"
DESCRIPTION = (
    "Money, quantities, dates and entities extracted from public documents on bilateral "
    "relations, each with the exact quote and its character offsets in the source text. "
    "See README.md (the dataset card) for every column, the sources and the limitations."
)


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
        return "any"  # frictionless 5 reads Parquet lists as numpy arrays: see the module doc
    return "string"


def arrow_type(type_: pa.DataType) -> str:
    """``string``, ``int64``, ``date32[day]``, ``list<string>`` (no ``item:`` field name)."""
    if pa.types.is_list(type_):
        return f"list<{arrow_type(type_.value_type)}>"
    return str(type_)


def _field(field: Field) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": field.name,
        "type": _frictionless_type(field.type),
        "arrowType": arrow_type(field.type),
        "description": field.description,
    }
    constraints: dict[str, Any] = {}
    if not field.nullable:
        constraints["required"] = True
    if field.values:
        constraints["enum"] = list(field.values)
    if field.unique:
        constraints["unique"] = True
    if constraints:
        described["constraints"] = constraints
    return described


def datapackage(
    version: str, tables: dict[str, dict[str, Any]], created: str | None = None
) -> dict[str, Any]:
    """Descriptor with one resource per table file; ``tables`` is the manifest's entry.

    ``created`` is the manifest's ``created_at`` (ISO 8601), when known.
    """
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
                "hash": f"sha256:{info['sha256']}",
                "description": table.description,
                "schema": schema,
            }
        )
    descriptor: dict[str, Any] = {
        "name": NAME,
        "title": TITLE,
        "description": DESCRIPTION,
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
    if created is not None:
        descriptor["created"] = created
    return descriptor
