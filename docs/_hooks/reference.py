"""MkDocs hook: the API reference and the webhook catalogue, written at build time from the
application's own OpenAPI document, so the site can never describe routes or payloads the code
does not have.

The document comes from ``create_app(...).openapi()`` over a runtime that takes no payments and
never opens its (throw-away SQLite) database: building the site needs no server, no network and
no configuration. Pages ask for a generated section with a marker line:

- ``<!-- reference:routes -->``    every route, grouped by tag, with parameters, body and answers
- ``<!-- reference:schemas -->``   every component schema with its fields
- ``<!-- reference:webhooks -->``  every catalogued event type with its ``data`` fields
- ``<!-- reference:metrics -->``   every Prometheus series ``/metrics`` exports
- ``<!-- reference:alerts -->``    every rule of ``deploy/alerts.yml``
- ``<!-- reference:readme -->``    the README itself

``reference/openapi.json`` is published too, the document the pages were made from.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

METHODS = ("get", "post", "put", "patch", "delete")
ROOT = Path(__file__).parents[2]


@cache
def openapi() -> Schema:
    from seatledger.api.app import create_app
    from seatledger.api.event_rendering import event_renderer
    from seatledger.bootstrap import build_runtime
    from seatledger.config import Settings

    with tempfile.TemporaryDirectory() as folder:
        # The engine is made but never connected: the file is never created.
        settings = Settings(database_url=f"sqlite:///{folder}/unused.sqlite3", sandbox=True)
        runtime = build_runtime(settings, payments=False, render_event=event_renderer)
        document: Schema = create_app(runtime, delivery_loop=False).openapi()
        asyncio.run(runtime.engine.dispose())
    return document


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return "schema-" + name.lower().replace("_", "-")


def type_of(schema: Schema) -> str:
    """A schema as a short Markdown type: ``string``, ``[SeatOut](#schema-seatout)``, …"""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " \\| ".join(type_of(part) for part in schema[combinator])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if kind == "object" and "additionalProperties" in schema:
        return "object"
    text = str(kind or "any")
    if "format" in schema:
        text += f" ({schema['format']})"
    return text


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _fields_table(schema: Schema) -> list[str]:
    properties: dict[str, Schema] = schema.get("properties", {})
    if not properties:
        return [f"Type: {type_of(schema)}", ""]
    required = set(schema.get("required", []))
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, field in properties.items():
        described = field.get("description", "")
        mark = "yes" if name in required else ""
        lines.append(f"| `{name}` | {type_of(field)} | {mark} | {_cell(described)} |")
    return [*lines, ""]


def _body(operation: Schema) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    return [
        f"Body (`{kind}`): {type_of(media.get('schema', {}))}" for kind, media in content.items()
    ]


def _parameters(operation: Schema) -> list[str]:
    parameters = operation.get("parameters", [])
    if not parameters:
        return []
    lines = ["| parameter | in | type | required |", "|---|---|---|---|"]
    for parameter in parameters:
        mark = "yes" if parameter.get("required") else ""
        kind = type_of(parameter.get("schema", {}))
        lines.append(f"| `{parameter['name']}` | {parameter['in']} | {kind} | {mark} |")
    return [*lines, ""]


def _answers(operation: Schema) -> list[str]:
    lines = ["| status | answer |", "|---|---|"]
    for status, answer in operation.get("responses", {}).items():
        kinds = [
            f"{type_of(media.get('schema', {}))} (`{kind}`)"
            for kind, media in answer.get("content", {}).items()
        ]
        lines.append(f"| {status} | {_cell(answer.get('description'))} {' '.join(kinds)} |")
    return [*lines, ""]


def _operation(method: str, path: str, operation: Schema) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    lines.append(f"`operationId`: `{operation.get('operationId', '')}`")
    lines.append("")
    for text in (operation.get("summary"), operation.get("description")):
        if text:
            lines += [text.strip(), ""]
    lines += _parameters(operation)
    body = _body(operation)
    if body:
        lines += [*body, ""]
    return lines + _answers(operation)


def routes_markdown(document: Schema) -> str:
    groups: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                groups.setdefault(tag, []).extend(_operation(method, path, item[method]))
    lines: list[str] = []
    for tag, section in groups.items():
        lines += [f"## {tag}", "", *section]
    return "\n".join(lines)


def schemas_markdown(document: Schema) -> str:
    lines: list[str] = []
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name} {{ #{_anchor(name)} }}", ""]
        if schema.get("description"):
            lines += [_cell(schema["description"]), ""]
        lines += _fields_table(schema)
    return "\n".join(lines)


def webhooks_markdown(document: Schema) -> str:
    schemas: dict[str, Schema] = document["components"]["schemas"]
    lines: list[str] = []
    for event_type, item in document.get("webhooks", {}).items():
        operation = item["post"]
        envelope_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        envelope = schemas[_ref_name(envelope_ref)]
        data = envelope["properties"]["data"]
        lines += [f"## `{event_type}`", "", f"`data`: {type_of(data)}", ""]
        target = schemas.get(_ref_name(data["$ref"])) if "$ref" in data else None
        if target is not None:
            lines += _fields_table(target)
    return _api_link("\n".join(lines))


def _api_link(text: str) -> str:
    # Schema links on the webhook page point at the API reference's schema section.
    return text.replace("](#schema-", "](api.md#schema-")


def readme_markdown(_document: Schema) -> str:
    """The README as a page: it stays the one source of what is built; its links into docs/
    are made relative to the site."""
    text = (ROOT / "README.md").read_text()
    return text.replace("](docs/", "](")


def metrics_markdown(_document: Schema) -> str:
    """The series of ``seatledger.observability.metrics`` (counted in each process) and the
    gauges ``/metrics`` reads from the database when scraped."""
    from prometheus_client.metrics import MetricWrapperBase

    from seatledger.api.metrics import _Backlog
    from seatledger.observability import metrics
    from seatledger.services.backlog import BacklogAges

    lines = ["| series | type | labels | what |", "|---|---|---|---|"]
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            name = value._name + ("_total" if value._type == "counter" else "")
            labels = ", ".join(f"`{label}`" for label in value._labelnames)
            lines.append(f"| `{name}` | {value._type} | {labels} | {_cell(value._documentation)} |")
    for family in _Backlog(BacklogAges(0, 0.0, 0, 0.0)).collect():
        lines.append(
            f"| `{family.name}` | gauge, read when scraped | | {_cell(family.documentation)} |"
        )
    return "\n".join(lines)


def alerts_markdown(_document: Schema) -> str:
    import yaml  # type: ignore[import-untyped]  # mkdocs depends on PyYAML; no stubs locked

    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())
    lines = ["| alert | for | severity | summary | expression |", "|---|---|---|---|---|"]
    for group in rules["groups"]:
        for rule in group["rules"]:
            summary = rule.get("annotations", {}).get("summary", "")
            severity = rule.get("labels", {}).get("severity", "")
            expression = _cell(rule["expr"]).replace("`", "")
            lines.append(
                f"| `{rule['alert']}` | {rule.get('for', '')} | {severity} | {_cell(summary)} "
                f"| `{expression}` |"
            )
    return "\n".join(lines)


MARKERS = {
    "<!-- reference:metrics -->": metrics_markdown,
    "<!-- reference:alerts -->": alerts_markdown,
    "<!-- reference:readme -->": readme_markdown,
    "<!-- reference:routes -->": routes_markdown,
    "<!-- reference:schemas -->": schemas_markdown,
    "<!-- reference:webhooks -->": webhooks_markdown,
}


OPENAPI = (routes_markdown, schemas_markdown, webhooks_markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for marker, render in MARKERS.items():
        if marker in markdown:
            document = openapi() if render in OPENAPI else {}
            markdown = markdown.replace(marker, render(document))
    return markdown


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    content = json.dumps(openapi(), indent=2) + "\n"
    files.append(File.generated(config, "reference/openapi.json", content=content))
    return files
