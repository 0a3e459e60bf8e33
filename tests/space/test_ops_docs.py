import subprocess
import sys
from pathlib import Path

from space.ops import EXTENDED_OPS, OPS, docs_markdown, markdown_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ops.md"
OUT_OF_DATE = "docs/ops.md is out of date: run .venv/bin/python -m space.ops > docs/ops.md"


def test_docs_ops_md_is_generated_from_the_catalogue():
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert text == docs_markdown(), OUT_OF_DATE


def test_python_m_space_ops_prints_the_docs_and_nothing_else():
    # The command that OUT_OF_DATE tells to run (and no runpy warning on stderr).
    done = subprocess.run(
        [sys.executable, "-m", "space.ops"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=DOCS.parents[1],
        check=True,
    )
    assert (done.stdout, done.stderr) == (docs_markdown(), "")


def test_table_has_the_catalogue_columns_and_one_row_per_op_in_order():
    header, rule, *rows = markdown_table().splitlines()
    assert header == "| op | set | KerasCV layer | magnitude m, stddev s → arguments |"
    assert rule == "|---|---|---|---|"
    assert [row.split(" | ")[0] for row in rows] == [f"| `{name}`" for name in EXTENDED_OPS]
    assert rows[EXTENDED_OPS.index("rotation")] == (
        "| `rotation` | extended | `RandomRotation` | factor=m/12: angle uniform in [-30*m, 30*m] degrees |"
    )
    assert all(OPS[name].layer in markdown_table() for name in EXTENDED_OPS)
