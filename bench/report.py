"""The one table `make bench` prints: a row per figure, with its target and its ratios."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    value: str
    target: str = ''
    ratio: str = ''
    ok: bool | None = None


def table(rows: list[Row]) -> str:
    header = Row('#', 'measure', 'value', 'target', 'ratio', None)
    cells = [[r.section, r.measure, r.value, r.target, r.ratio, _mark(r.ok)] for r in [header, *rows]]
    cells[0][5] = 'ok'
    widths = [max(len(row[i]) for row in cells) for i in range(6)]
    lines = []
    for index, row in enumerate(cells):
        lines.append('  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append('  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def ms(seconds: float) -> str:
    return f'{seconds * 1000:.1f} ms'


def x(ratio: float) -> str:
    return f'{ratio:.2f}x'


def _mark(ok: bool | None) -> str:
    return '' if ok is None else 'yes' if ok else 'NO'
