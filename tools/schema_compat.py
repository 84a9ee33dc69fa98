"""Whether a message version's new JSON Schema breaks readers of its old one.

The rule. Within one version, every reader must read every message that any
writer of that version writes, in both directions: old readers read new
messages (queues hold both kinds while a deploy rolls out) and new readers
read old ones (queues, dead-letter queues, the outbox and replays of the
bus archive hold them long after). So a change may neither widen nor narrow
the set of messages the schema allows, with one exception: readers ignore
properties they do not know (`parse_message`), so a new optional property
is fine, and so is anything `additionalProperties` says.

What `breaking_changes` reports, each as "<path>: <what changed>":

- a property removed (a rename is a removal plus a new property);
- a new required property, or an old one that became required or stopped
  being required;
- a type changed, including `integer` to `number` and back;
- nullability changed, in either direction: a field that becomes nullable
  hands old readers a null they never expected; one that stops being
  nullable makes new readers refuse old messages that carry null;
- an enum narrowed or widened, a Literal/const changed, and a changed
  `format` or bound (`minimum`, `maxLength`, `pattern`, ...).

Titles, descriptions, defaults and examples are documentation, not
contract, and are ignored. `$ref`/`$defs`, `allOf` of one schema, `anyOf`,
`oneOf`, `type` lists, nested objects, arrays and maps are followed; the
names of definitions do not matter. Alternatives of a union are matched by
JSON type, and several of one type (two object models, say) in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

Schema = dict[str, Any]

BOUNDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
)
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
    list: "array",
    dict: "object",
}


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """What in `new_schema` breaks a reader or a writer of `old_schema`."""
    walk = _Walk(old_schema, new_schema)
    walk.compare(old_schema, new_schema, "")
    return walk.changes


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Walk:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[str] = []
        # Pairs of definitions being compared, so recursive models end.
        self._open: set[tuple[str, str]] = set()

    def report(self, path: str, what: str) -> None:
        self.changes.append(f"{path or '(the message)'}: {what}")

    # --- following references and unions ------------------------------------

    @staticmethod
    def _resolve(node: Schema, root: Schema) -> tuple[Schema, str]:
        """`node` with its `$ref` (or single `allOf`) merged in; and the refs."""
        seen: list[str] = []
        while True:
            if "$ref" in node:
                ref = node["$ref"]
                if ref in seen:
                    break
                seen.append(ref)
                target = _pointer(root, ref)
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                rest = {k: v for k, v in node.items() if k != "allOf"}
                node = {**node["allOf"][0], **rest}
            else:
                break
        return node, "|".join(seen)

    def _variants(self, node: Schema, root: Schema) -> Iterator[tuple[Schema, str]]:
        """The alternatives a value may take (anyOf, oneOf, type lists), each
        with the references followed to reach it."""
        node, ref = self._resolve(node, root)
        for union in ("anyOf", "oneOf"):
            if isinstance(node.get(union), list):
                rest = {k: v for k, v in node.items() if k != union}
                for branch in node[union]:
                    yield from self._variants({**rest, **branch}, root)
                return
        if isinstance(node.get("type"), list):
            for one in node["type"]:
                yield {**node, "type": one}, ref
            return
        yield node, ref

    # --- comparing ----------------------------------------------------------

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old_kinds = _by_kind(self._variants(old, self.old_root))
        new_kinds = _by_kind(self._variants(new, self.new_root))
        was_null, is_null = "null" in old_kinds, "null" in new_kinds
        if is_null and not was_null:
            self.report(path, "became nullable")
        if was_null and not is_null:
            self.report(path, "is no longer nullable")
        old_kinds.pop("null", None)
        new_kinds.pop("null", None)
        if set(old_kinds) != set(new_kinds):
            self.report(
                path,
                f"type changed from {_kinds(old_kinds)} to {_kinds(new_kinds)}",
            )
        for kind in sorted(set(old_kinds) & set(new_kinds)):
            olds, news = old_kinds[kind], new_kinds[kind]
            if len(olds) != len(news):
                self.report(path, f"the {kind} alternatives of the union changed")
                continue
            for (old_variant, old_ref), (new_variant, new_ref) in zip(
                olds, news, strict=True
            ):
                pair = (old_ref, new_ref)
                if old_ref and new_ref and pair in self._open:
                    continue  # a recursive model, already being compared
                self._open.add(pair)
                try:
                    self._compare_variant(old_variant, new_variant, path)
                finally:
                    self._open.discard(pair)

    def _compare_variant(self, old: Schema, new: Schema, path: str) -> None:
        self._compare_values(old, new, path)
        for keyword in ("format", *BOUNDS):
            if old.get(keyword) != new.get(keyword):
                self.report(
                    path,
                    f"{keyword} changed from {_show(old.get(keyword))} "
                    f"to {_show(new.get(keyword))}",
                )
        kind = _kind(old)
        if kind == "object":
            self._compare_object(old, new, path)
        elif kind == "array":
            self._compare_array(old, new, path)

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        """Enums and consts: the exact values a field may hold."""
        if "const" in old and "const" in new:
            if old["const"] != new["const"]:
                self.report(
                    path,
                    f"const changed from {_show(old['const'])} "
                    f"to {_show(new['const'])}",
                )
            return
        old_values, new_values = _allowed(old), _allowed(new)
        if old_values is None and new_values is None:
            return
        if old_values is None:
            self.report(path, f"enum narrowed: now only {_values(new_values)}")
        elif new_values is None:
            self.report(path, f"enum widened: no longer only {_values(old_values)}")
        else:
            if removed := old_values - new_values:
                self.report(path, f"enum narrowed: {_values(removed)} removed")
            if added := new_values - old_values:
                self.report(path, f"enum widened: {_values(added)} added")

    def _compare_object(self, old: Schema, new: Schema, path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_prop in old_props.items():
            where = _child(path, name)
            if name not in new_props:
                self.report(where, "property removed (or renamed)")
                continue
            self.compare(old_prop, new_props[name], where)
            if name in old_required and name not in new_required:
                self.report(where, "is no longer required")
            if name not in old_required and name in new_required:
                self.report(where, "became required")
        for name in new_props:
            if name not in old_props and name in new_required:
                self.report(_child(path, name), "new required property")
        old_map, new_map = _map_values(old), _map_values(new)
        if old_map is not None and new_map is not None:
            self.compare(old_map, new_map, _child(path, "*"))
        elif (old_map is None) != (new_map is None):
            self.report(path, "map values changed")

    def _compare_array(self, old: Schema, new: Schema, path: str) -> None:
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self.report(
                path,
                f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}",
            )
        for index, (old_item, new_item) in enumerate(
            zip(old_prefix, new_prefix, strict=False)
        ):
            self.compare(old_item, new_item, f"{path}[{index}]")
        old_items, new_items = old.get("items", {}), new.get("items", {})
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            self.compare(old_items, new_items, f"{path}[]")
        elif old_items != new_items:
            self.report(path, "items changed")


def _pointer(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"only local references are followed, not {ref!r}")
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"{ref!r} does not point at a schema")
    return node


def _kind(variant: Schema) -> str:
    if isinstance(variant.get("type"), str):
        return str(variant["type"])
    values = _allowed(variant)
    if values:
        kinds = {_JSON_TYPES.get(type(json.loads(v)), "any") for v in values}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in variant:
        return "object"
    if "items" in variant or "prefixItems" in variant:
        return "array"
    return "any"


Variants = dict[str, list[tuple[Schema, str]]]


def _by_kind(variants: Iterator[tuple[Schema, str]]) -> Variants:
    grouped: Variants = {}
    for variant, ref in variants:
        grouped.setdefault(_kind(variant), []).append((variant, ref))
    return grouped


def _kinds(grouped: Variants) -> str:
    return " or ".join(sorted(grouped)) or "nothing but null"


def _allowed(variant: Schema) -> set[str] | None:
    """The values `enum`/`const` allow, as JSON text; None when any value goes."""
    if "const" in variant:
        return {_show(variant["const"])}
    if isinstance(variant.get("enum"), list):
        return {_show(value) for value in variant["enum"]}
    return None


def _values(values: set[str] | None) -> str:
    return ", ".join(sorted(values or ()))


def _map_values(variant: Schema) -> Schema | None:
    extra = variant.get("additionalProperties")
    return extra if isinstance(extra, dict) else None
