"""Aligned text tables for the terminal, and the JSON files the README's tables are generated from."""

import json
import math
import os


def fmt(value, digits: int = 3) -> str:
    """Numbers with ``digits`` significant digits (no exponent for everyday sizes), None as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            decimals = max(0, digits - 1 - math.floor(math.log10(abs(value)))) if value else 0
            return f"{value:.{decimals}f}"
        return f"{value:.{digits - 1}e}"
    return str(value)


def format_table(columns: list[str], rows: list[list]) -> str:
    """Columns padded to their widest cell: text left-aligned, numbers right-aligned; a rule under the header.

    A row that is None prints as an empty line (a separator between groups).
    """
    groups = rows
    rows = [row for row in rows if row is not None]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) for i in range(len(columns))]
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    body, cell_rows = [], iter(cells)
    for row in groups:
        body.append("" if row is None else line(next(cell_rows)))
    return "\n".join([line(columns), line(["-" * w for w in widths])] + body)


def write_json(path: str, payload: dict) -> None:
    """Write ``payload`` as indented JSON (creating the directory), so a diff of two runs is readable."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, ensure_ascii=False)
        f.write("\n")
