"""The exporters' YAML and TOML text: what a parser reads back is exactly what was written."""

from __future__ import annotations

import pytest
import yaml

from django_prodserver.export.text import Flow, toml_value, yaml_document

tomllib = pytest.importorskip("tomllib")

TRICKY = [
    "on",
    "No",
    "true",
    "null",
    "1.0",
    "250m",
    "8000",
    "*",
    "a: b",
    "#x",
    "a #b",
    "",
    "$PORT",
    "'q'",
    'say "hi"',
    "/healthz/",
]


@pytest.mark.parametrize("text", TRICKY)
def test_a_string_yaml_could_read_as_something_else_stays_a_string(text: str) -> None:
    assert yaml.safe_load(yaml_document([], {"key": text})) == {"key": text}


def test_nested_values_round_trip_and_comments_lead() -> None:
    value = {
        "services": [
            {"name": "web", "command": Flow(("python", "manage.py", "prodserver", "web")), "ports": []},
            {"name": "worker", "env": {}, "replicas": 1, "enabled": False},
        ],
        "app.kubernetes.io/name": "shop",
    }
    text = yaml_document(["made by a test", ""], value)
    assert text.startswith("# made by a test\n#\nservices:\n  - name: web\n")
    assert '    command: ["python", "manage.py", "prodserver", "web"]\n' in text
    assert yaml.safe_load(text) == {
        "services": [
            {"name": "web", "command": ["python", "manage.py", "prodserver", "web"], "ports": []},
            {"name": "worker", "env": {}, "replicas": 1, "enabled": False},
        ],
        "app.kubernetes.io/name": "shop",
    }


def test_toml_values_round_trip() -> None:
    tricky = 'say "hi" \\ there'
    text = f"a = {toml_value(tricky)}\nb = {toml_value(['web'])}\nc = {toml_value(30)}\n"
    assert tomllib.loads(text) == {"a": tricky, "b": ["web"], "c": 30}
