"""The bundled data models (rules/data_models) against the golden records of their log
types (crates/caracal-logs/tests/golden/<LogType>/expected.jsonl, the parser's real
output): every mapped path finds a value in some record, every method runs on every
record and gives a standard value for some record. A renamed schema field or a typo in
a path fails here, not silently in a rule."""

import importlib.util
import json
import pathlib
import sys
import unittest

import yaml

from support import runtime  # noqa: F401 - puts the runtime on sys.path

from _caracal_runtime.event import DataModel, PantherEvent

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODELS = ROOT / "rules" / "data_models"
GOLDEN = ROOT / "crates" / "caracal-logs" / "tests" / "golden"
HELPERS = ROOT / "rules" / "global_helpers"


def load_module(path):
    if str(HELPERS) not in sys.path:
        sys.path.insert(0, str(HELPERS))
    spec = importlib.util.spec_from_file_location(f"datamodel_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DataModelsTest(unittest.TestCase):
    def test_every_mapping_finds_its_field_in_the_golden_records(self):
        checked = 0
        for spec_path in sorted(MODELS.glob("*.yml")):
            spec = yaml.safe_load(spec_path.read_text())
            module = load_module(MODELS / spec["Filename"]) if spec.get("Filename") else None
            model = DataModel(spec["DataModelID"], spec["Mappings"], module)
            for log_type in spec["LogTypes"]:
                golden = GOLDEN / log_type / "expected.jsonl"
                if not golden.exists():
                    continue  # native types are covered by their parser tests
                events = [PantherEvent(json.loads(line), model) for line in golden.read_text().splitlines() if line.strip()]
                self.assertTrue(events, golden)
                for mapping in spec["Mappings"]:
                    name = mapping["Name"]
                    with self.subTest(model=spec["DataModelID"], log_type=log_type, name=name):
                        values = [e.udm(name) for e in events]
                        self.assertTrue(any(v is not None for v in values), f"{name} finds nothing in {golden}")
                checked += 1
        self.assertGreaterEqual(checked, 18, "data models checked against golden records")


if __name__ == "__main__":
    unittest.main()
