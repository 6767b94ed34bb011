"""benchmarks/run_all.py puts its figures into RESULTS.md without losing the hand-written parts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from run_all import RUN_ALL_HEADING, merge_results

OLD = """# Benchmark results

Notes on the machine.

## bench_simulate.py

### Before and after (by hand)

| a | b |
|---|---|

### From run_all.py (2026-01-01)

```
{"old": 1}
```

### Later notes

kept

## bench_engine.py

By hand only.

## Chart

![chart](results.svg)
"""


def test_a_run_replaces_only_its_own_part_and_keeps_the_rest() -> None:
    part = [f"{RUN_ALL_HEADING} (2026-12-02)", "", "```", '{"new": 2}', "```", ""]
    merged = merge_results(OLD, {"bench_simulate.py": part, "bench_batch.py": part})
    assert '{"old": 1}' not in merged and merged.count('{"new": 2}') == 2
    for kept in (
        "Notes on the machine.",
        "### Before and after (by hand)",
        "### Later notes\n\nkept",
        "By hand only.",
    ):
        assert kept in merged
    headings = [line for line in merged.splitlines() if line.startswith("## ")]
    assert headings == ["## bench_simulate.py", "## bench_engine.py", "## bench_batch.py", "## Chart"]
    assert merged.index('{"new": 2}') < merged.index("### Later notes")  # in place, not appended


def test_a_first_run_writes_a_whole_file() -> None:
    merged = merge_results("", {"bench_s3.py": [f"{RUN_ALL_HEADING} (x)", "", "figures"]})
    assert merged.startswith("# Benchmark results\n")
    assert merged.index("## bench_s3.py") < merged.index("## Chart")
