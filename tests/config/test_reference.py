"""docs/config.md is generated from the schema and documents every option."""

import dataclasses
from pathlib import Path

from mgproto.config import ExperimentConfig
from mgproto.config.reference import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def _leaves(cfg, prefix=""):
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_docs_config_md_is_the_generated_reference():
    assert DOC.read_text() == render_reference(), (
        "docs/config.md is stale: run `mgproto config --reference > docs/config.md`"
    )


def test_every_option_has_a_row_with_a_description():
    page = render_reference()
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines()
            if line.startswith("| `")}  # fmt: skip
    for key in _leaves(ExperimentConfig()):
        assert key in rows, key
        assert rows[key].rstrip(" |").split("|")[-1].strip(), f"{key} has no description"


def test_ranges_and_defaults_are_rendered():
    page = render_reference()
    assert "| `train.batch_size` | int (>= 1 and <= 4096) | `10` |" in page
    assert '| `data.sampling.short_clips` | one of `loop`, `stretch` | `"loop"` |' in page
    assert "| `train.ema_epochs` | `0.0` |" in page  # retired table
