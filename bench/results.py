"""The benchmark's measurements: each with its target, printed as one table and
written to bench/results/latest.json."""

import json
import math
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path

COMPARE = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    op: str
    value: float

    def met_by(self, value: float) -> bool:
        return COMPARE[self.op](value, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float | None
    unit: str
    target: Target | None = None
    size: str = ""
    # Why there is no value, or what to know to read it (a run stopped at its time limit).
    note: str = ""

    @property
    def ok(self) -> bool | None:
        """None: nothing to compare (no target); False also when nothing was measured."""
        if self.target is None:
            return None
        return self.value is not None and self.target.met_by(self.value)

    @property
    def verdict(self) -> str:
        return {None: "", True: "ok", False: "MISSED"}[self.ok]

    def as_data(self) -> dict:
        data = asdict(self)
        data["target"] = str(self.target) if self.target else None
        data["ok"] = self.ok
        return data


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isfinite(value) and (abs(value) >= 100 or float(value).is_integer()):
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


@dataclass
class Report:
    measurements: list[Measurement] = field(default_factory=list)

    def add(self, *measurements: Measurement) -> None:
        for measurement in measurements:
            self.measurements.append(measurement)
            print(f"  {measurement.name}: {_number(measurement.value)} {measurement.unit} {measurement.verdict}",
                  flush=True)

    def table(self) -> str:
        header = ("measurement", "data", "value", "unit", "target", "", "note")
        rows = [header] + [
            (m.name, m.size, _number(m.value), m.unit, str(m.target or ""), m.verdict, m.note)
            for m in self.measurements
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
        lines = []
        for number, row in enumerate(rows):
            cells = [cell.rjust(width) if column == 2 else cell.ljust(width)
                     for column, (cell, width) in enumerate(zip(row, widths))]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def missed(self) -> list[Measurement]:
        return [m for m in self.measurements if m.ok is False]

    def write(self, path: Path, **extra) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**extra, "results": [m.as_data() for m in self.measurements]}, indent=2))
