"""Validates OCSF records (JSON Lines) against a JSON Schema with `jsonschema`.

Usage: validate_ocsf.py SCHEMA RECORDS.jsonl
Prints one line per invalid record (line number, path, message) and a closing
"N valid, M invalid" line; exits 1 when a record is invalid or there are none.
"""

import json
import sys

from jsonschema import Draft202012Validator


def main(schema_path, records_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    valid = invalid = 0
    with open(records_path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            errors = list(validator.iter_errors(json.loads(line)))
            if errors:
                invalid += 1
                for error in errors:
                    path = "/".join(str(p) for p in error.absolute_path) or "(record)"
                    print(f"line {number}: {path}: {error.message}")
            else:
                valid += 1
    print(f"{valid} valid, {invalid} invalid")
    return 1 if invalid or not valid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
