"""The OpenAPI document says of a request body exactly what msgspec checks.

Litestar's schema of a msgspec Struct loses some of the limits msgspec enforces: a `ge=0` (a
falsy value it skips), the limits on a list's items (`seals: ["" ]` looked valid), and
`forbid_unknown_fields`. For the Structs a client sends (those that forbid unknown fields) each
plain field's schema is msgspec's own; a field holding another Struct keeps Litestar's reference.
"""

import re
from typing import Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition

ALIASES = Schema.field_aliases()


def schema_of(json_schema: dict[str, Any]) -> Schema:
    """Litestar's `Schema` for a JSON Schema as msgspec writes it (no references)."""
    fields: dict[str, Any] = {}
    for key, value in json_schema.items():
        name = ALIASES.get(key, re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower())
        if name == "items":
            value = schema_of(value)
        elif name in ("any_of", "one_of", "all_of"):
            value = [schema_of(arm) for arm in value]
        fields[name] = value
    return Schema(**fields)


class RequestStructSchemaPlugin(StructSchemaPlugin):
    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            super().is_plugin_supported_field(field_definition)
            and field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        for field in msgspec.structs.fields(field_definition.type_):
            exact = msgspec.json.schema(hints[field.name])
            if "$defs" in exact or "$ref" in exact:
                continue  # another Struct: Litestar's reference to its own component
            if field.default is not msgspec.NODEFAULT:
                exact["default"] = msgspec.to_builtins(field.default)
            assert schema.properties is not None
            schema.properties[field.encode_name] = schema_of(exact)
        return schema
