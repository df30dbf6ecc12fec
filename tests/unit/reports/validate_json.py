"""Validates JSON files against a JSON Schema (draft 2020-12).

usage: validate_json.py SCHEMA FILE...

Prints "FILE: valid" or "FILE: INVALID" (after the reasons) per file and
exits 1 when any file is invalid, 2 when the schema itself is not a valid
draft 2020-12 schema.
"""
import json
import sys

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
try:
    Draft202012Validator.check_schema(schema)
except SchemaError as e:
    print(f"{sys.argv[1]}: not a valid schema: {e.message}")
    sys.exit(2)

validator = Draft202012Validator(schema)
invalid = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path)
        print(f"{path}: /{where}: {e.message}")
    print(f"{path}: {'INVALID' if errors else 'valid'}")
    invalid += bool(errors)
sys.exit(1 if invalid else 0)
