#!/usr/bin/env python3
"""Reads an XLSX workbook with openpyxl (an independent reader) and prints what the tests
check as one JSON document: per sheet its frozen panes, autofilter, column widths, header,
row count, the Python types found in each column, and the sum of each numeric column
(computed with exact decimals from the cell values, rounded to the column's decimals)."""
import datetime
import decimal
import json
import sys

import openpyxl


def main(path):
    wb = openpyxl.load_workbook(path, read_only=False)
    out = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=False))
        header = [c.value for c in rows[0]] if rows else []
        types = {}
        sums = {}
        formats = {}
        for row in rows[1:]:
            for i, cell in enumerate(row):
                v = cell.value
                if v is None:
                    continue
                name = header[i] if i < len(header) else str(i)
                t = type(v).__name__
                types.setdefault(name, set()).add(t)
                formats.setdefault(name, set()).add(cell.number_format)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sums[name] = sums.get(name, decimal.Decimal(0)) + decimal.Decimal(repr(v))
        widths = {}
        for letter, dim in ws.column_dimensions.items():
            if dim.width:
                widths[letter] = dim.width
        out.append({
            "name": ws.title,
            "freeze_panes": ws.freeze_panes,
            "auto_filter": ws.auto_filter.ref,
            "header": header,
            "rows": max(len(rows) - 1, 0),
            "types": {k: sorted(v) for k, v in types.items()},
            "formats": {k: sorted(v) for k, v in formats.items()},
            "sums": {k: str(v) for k, v in sums.items()},
            "widths": widths,
            "cells": [[c.value if not isinstance(c.value, (datetime.datetime, datetime.date)) else c.value.isoformat() for c in r] for r in rows[:12]],
        })
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
