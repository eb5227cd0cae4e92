"""QR codes drawn straight onto a reportlab canvas as vector shapes.

segno encodes the data (modes, Reed-Solomon, module placement). The data mask is chosen
here: segno scores the eight masks module by module in Python, which costs more than the
whole rest of a permit page. So segno builds the symbol once, with mask 0; the other seven
are derived by XOR with per-version differences (data mask and format bits, computed once),
scored with whole-symbol integer operations (ISO/IEC 18004 penalty rules N1-N4, on the
finished symbol with its format bits), and the lowest score wins. The tests check that each
derived symbol is bit for bit what segno builds with that mask, and the score against a
module-by-module implementation of the rules. (segno scores before adding the format bits,
so for some data it picks another mask; both choices are valid QR codes.)

Drawing: the outline of each dark region is traced into one polygon, so a version-8 code
(49 x 49 modules) is a single filled path; modules drawn as touching rectangles show
hairline seams in some renderers (poppler), whole regions never do. A 4-module quiet zone
is always painted white.
"""
from __future__ import annotations

import functools

import segno

QUIET_ZONE_MODULES = 4
ERROR_LEVEL = "m"  # at least 15% of the code may be damaged or dirty and it still reads

_EC_FORMAT_BITS = {"L": 1, "M": 0, "Q": 3, "H": 2}
_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_FROM_DIGITS = bytes.maketrans(b"01", b"\x00\x01")


def qr_matrix(data: str) -> tuple[bytearray, ...]:
    """The module rows of the QR code for `data`, top row first, 1 = dark, without quiet zone.

    Error level M at least (segno raises it for free when the data fits the same version).
    """
    size, rows, _ = best_symbol(data)
    return tuple(bytearray(format(row, f"0{size}b")[::-1].encode("ascii").translate(_FROM_DIGITS))
                 for row in rows)


def best_symbol(data: str) -> tuple[int, list[int], list[int]]:
    """(size, rows, columns) of the lowest-penalty mask (the lowest mask number among equals)."""
    symbol = segno.make_qr(data, error=ERROR_LEVEL, mask=0)
    size = len(symbol.matrix)
    packed_rows = _pack(symbol.matrix)
    packed_columns = _pack(zip(*symbol.matrix))
    best_score = best = None
    for _, _, row_change, column_change in _mask_changes(size, symbol.error):
        score = _packed_penalty(packed_rows ^ row_change, packed_columns ^ column_change, size)
        if best_score is None or score < best_score:
            best_score, best = score, (packed_rows ^ row_change, packed_columns ^ column_change)
    return size, _unpack(best[0], size), _unpack(best[1], size)


def masked_symbols(data: str) -> tuple[int, list[tuple[list[int], list[int]]]]:
    """(size, [(rows, columns) for mask 0..7]): the eight symbols as bit sets (bit j = module j)."""
    symbol = segno.make_qr(data, error=ERROR_LEVEL, mask=0)
    size = len(symbol.matrix)
    rows = [_bits(row) for row in symbol.matrix]
    columns = [_bits(column) for column in zip(*symbol.matrix)]
    return size, [([row ^ change for row, change in zip(rows, row_changes)],
                   [column ^ change for column, change in zip(columns, column_changes)])
                  for row_changes, column_changes, _, _ in _mask_changes(size, symbol.error)]


def penalty(rows: list[int], columns: list[int], size: int) -> int:
    """ISO/IEC 18004 mask penalty of a symbol given as row and column bit sets (bit j = module j).

    N1: 3 + (run - 5) per run of five or more same-coloured modules in a row or column;
    N2: 3 per 2 x 2 block of one colour; N3: 40 per dark-light-dark-dark-dark-light-dark
    pattern with four light modules before or after it (outside the symbol counts as light);
    N4: 10 per 5% that the share of dark modules strays from 50%.
    """
    return _packed_penalty(_pack_bits(rows, size), _pack_bits(columns, size), size)


def _packed_penalty(rows: int, columns: int, size: int) -> int:
    """`penalty` with all rows (and all columns) in one integer, each line between 4-bit gaps.

    The gaps are light for N3 (the quiet zone) and neither colour for N1 and N2, so no run or
    block crosses from one line to the next; every rule is then a few whole-symbol operations.
    """
    width = size + 2 * _GAP
    modules = _module_positions(size)
    everything = (1 << (size * width)) - 1
    score = 0
    for lines in (rows, columns):
        for colour in (lines, ~lines & modules):
            windows = colour & (colour >> 1) & (colour >> 2) & (colour >> 3) & (colour >> 4)
            # A run of length L has L - 4 windows of five: L - 4 + 2 = 3 + (L - 5).
            score += windows.bit_count() + 2 * (windows & ~(windows << 1)).bit_count()
        light = ~lines & everything
        core = lines & (light >> 1) & (lines >> 2) & (lines >> 3) & (lines >> 4) & (light >> 5) & (lines >> 6)
        if core:
            before = (light << 1) & (light << 2) & (light << 3) & (light << 4)
            after = (light >> 7) & (light >> 8) & (light >> 9) & (light >> 10)
            score += 40 * (core & (before | after)).bit_count()
    both_dark = rows & (rows >> width)
    both_light = ~rows & modules
    both_light &= both_light >> width
    score += 3 * ((both_dark & (both_dark >> 1)).bit_count() + (both_light & (both_light >> 1)).bit_count())
    total = size * size
    score += 10 * (abs(20 * rows.bit_count() - 10 * total) // total)
    return score


def draw_qr(canvas, data: str, x: float, y: float, size: float) -> int:
    """Draw the QR code for `data` as a `size` x `size` square whose lower-left corner is (x, y).

    The square includes the quiet zone, painted white so the code reads on any background.
    Returns the number of modules per side (without quiet zone), e.g. 49 for version 8.
    """
    modules, rows, columns = best_symbol(data)
    module = size / (modules + 2 * QUIET_ZONE_MODULES)

    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    # Work in module units, y downwards from the top-left module, so the path is whole numbers.
    canvas.transform(module, 0, 0, -module, x + QUIET_ZONE_MODULES * module,
                     y + size - QUIET_ZONE_MODULES * module)
    # The path is written as PDF operators (m: move, l: line, h: close, f: fill, nonzero rule):
    # some 1,700 corners through reportlab's path object (a method call and float formatting each) cost
    # several times more.
    # Holes (light modules inside a dark region) run the other way round, so nonzero leaves them empty.
    moves, lines = _corner_operators(modules)
    operators = []
    for outline in _outlines(modules, rows, columns):
        operators.append(moves[outline[0]])
        operators.extend([lines[corner] for corner in outline[1:]])
        operators.append("h")
    operators.append("f")
    canvas.addLiteral("\n".join(operators))
    canvas.restoreState()
    return modules


def dark_outlines(matrix) -> list[list[tuple[int, int]]]:
    """Closed outlines of the dark regions of `matrix` as corner points (column, row), row 0 at the top."""
    size = len(matrix)
    outlines = _outlines(size, [_bits(row) for row in matrix], [_bits(column) for column in zip(*matrix)])
    return [[divmod(corner, size + 1)[::-1] for corner in outline] for outline in outlines]


@functools.lru_cache(maxsize=8)
def _corner_operators(size: int) -> tuple[list[str], list[str]]:
    """PDF "move to" and "line to" operators for every corner number (row * (size + 1) + column)."""
    corners = [divmod(corner, size + 1)[::-1] for corner in range((size + 1) ** 2)]
    return ["%d %d m" % corner for corner in corners], ["%d %d l" % corner for corner in corners]


def _outlines(size: int, rows: list[int], columns: list[int]) -> list[list[int]]:
    """Outlines from the symbol as row and column bit sets, as corner numbers (row * (size + 1) + column).

    Boundary edges are found a whole row (or column) at a time with integer bit operations and
    merged into maximal straight runs. Each is directed with the dark side on its right (outer
    outlines clockwise on screen, holes anticlockwise), so the winding number is 1 inside dark
    modules and 0 elsewhere, however the runs are chained into loops.
    """
    stride = size + 1
    following: dict[int, list[int]] = {}  # corner -> corners a run leads to (two where regions touch diagonally)
    for line in range(size + 1):  # the horizontal line above row `line`, the vertical left of column `line`
        above = rows[line - 1] if line else 0
        below = rows[line] if line < size else 0
        left = columns[line - 1] if line else 0
        right = columns[line] if line < size else 0
        base = line * stride
        # (set bits, orientation): tops of dark modules run left to right, bottoms right to left,
        # left sides upwards, right sides downwards.
        for bits, kind in ((below & ~above, 0), (above & ~below, 1), (right & ~left, 2), (left & ~right, 3)):
            while bits:
                first = (bits & -bits).bit_length() - 1
                shifted = bits >> first
                last = first + (~shifted & (shifted + 1)).bit_length() - 1  # one past the run
                bits &= -1 << last
                if kind == 0:
                    start, end = base + first, base + last
                elif kind == 1:
                    start, end = base + last, base + first
                elif kind == 2:
                    start, end = last * stride + line, first * stride + line
                else:
                    start, end = first * stride + line, last * stride + line
                ends = following.get(start)
                if ends is None:
                    following[start] = [end]
                else:
                    ends.append(end)

    outlines = []
    while following:
        start = current = next(iter(following))
        points = []
        while True:
            points.append(current)
            ends = following[current]
            end = ends.pop()
            if not ends:
                del following[current]
            current = end
            if current == start:
                break
        outlines.append(points)
    return outlines


# --- mask differences, per symbol size and error level --------------------------------------

def _bits(modules) -> int:
    """A row or column of 0/1 modules as an integer, module 0 in the lowest bit."""
    return int(bytes(modules).translate(_TO_DIGITS)[::-1], 2)


_GAP = 4  # bits on each side of a line in a packed symbol


def _pack(lines) -> int:
    """Rows (or columns) of 0/1 modules in one integer: line i at bit i * (size + 8) + 4."""
    gap = b"0" * _GAP
    digits = b"".join(gap + bytes(line).translate(_TO_DIGITS) + gap for line in lines)
    return int(digits[::-1], 2)


def _pack_bits(lines: list[int], size: int) -> int:
    width = size + 2 * _GAP
    packed = 0
    for index, line in enumerate(lines):
        packed |= line << (index * width + _GAP)
    return packed


def _unpack(packed: int, size: int) -> list[int]:
    width, full = size + 2 * _GAP, (1 << size) - 1
    return [(packed >> (index * width + _GAP)) & full for index in range(size)]


@functools.lru_cache(maxsize=None)
def _module_positions(size: int) -> int:
    return _pack_bits([(1 << size) - 1] * size, size)


@functools.lru_cache(maxsize=None)
def _mask_changes(size: int, error: str) -> tuple[tuple[tuple[int, ...], tuple[int, ...], int, int], ...]:
    """Per mask: the rows and columns to XOR with a mask-0 symbol to get that mask's symbol,
    one by one and packed (see `_pack`).

    A symbol differs from its mask-0 twin in the data region (mask 0 pattern XOR this mask's
    pattern) and in the two copies of the 15 format bits.
    """
    version = (size - 17) // 4
    data_region = _data_region(size, version)
    format_positions = _format_positions(size)
    mask_0_format = _format_bits(error, 0)
    changes = []
    for mask in range(8):
        grid = [bytearray(size) for _ in range(size)]
        for i in range(size):
            for j in range(size):
                if data_region[i][j] and _MASKS[0](i, j) != _MASKS[mask](i, j):
                    grid[i][j] = 1
        format_change = mask_0_format ^ _format_bits(error, mask)
        for bit, positions in enumerate(format_positions):
            if format_change >> bit & 1:
                for i, j in positions:
                    grid[i][j] ^= 1
        row_changes = tuple(_bits(row) for row in grid)
        column_changes = tuple(_bits(column) for column in zip(*grid))
        changes.append((row_changes, column_changes, _pack(grid), _pack(zip(*grid))))
    return tuple(changes)


def _data_region(size: int, version: int) -> list[bytearray]:
    """1 where a module carries data (and so is masked), 0 in the function patterns."""
    region = [bytearray(b"\x01" * size) for _ in range(size)]

    def clear(top: int, left: int, height: int, width: int) -> None:
        for i in range(max(top, 0), min(top + height, size)):
            for j in range(max(left, 0), min(left + width, size)):
                region[i][j] = 0

    # Finder patterns with separators and format information; the dark module is inside.
    clear(0, 0, 9, 9)
    clear(0, size - 8, 9, 8)
    clear(size - 8, 0, 8, 9)
    clear(6, 0, 1, size)  # timing patterns
    clear(0, 6, size, 1)
    centres = _alignment_centres(version, size)
    for row_index, row_centre in enumerate(centres):
        for column_index, column_centre in enumerate(centres):
            last = len(centres) - 1
            if (row_index, column_index) in ((0, 0), (0, last), (last, 0)):
                continue  # would overlap a finder pattern
            clear(row_centre - 2, column_centre - 2, 5, 5)
    if version >= 7:  # version information, two copies
        clear(0, size - 11, 6, 3)
        clear(size - 11, 0, 3, 6)
    return region


def _alignment_centres(version: int, size: int) -> list[int]:
    if version == 1:
        return []
    count = version // 7 + 2
    step = (version * 8 + count * 3 + 5) // (count * 4 - 4) * 2
    return [6] + sorted(size - 7 - index * step for index in range(count - 1))


def _format_bits(error: str, mask: int) -> int:
    """The 15 format bits: error level and mask, BCH(15,5)-protected, XORed with 0x5412."""
    data = _EC_FORMAT_BITS[error.upper()] << 3 | mask
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return (data << 10 | remainder) ^ 0x5412


def _format_positions(size: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(row, column) of format bit 0..14 in the copy around the top-left finder and in the other copy."""
    first = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)] + [(8, 14 - i) for i in range(9, 15)]
    second = [(8, size - 1 - i) for i in range(8)] + [(size - 15 + i, 8) for i in range(8, 15)]
    return list(zip(first, second))
