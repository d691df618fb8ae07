"""A fast QR encoder for label sheets: byte mode, fixed version, level and mask.

The ``qrcode`` package spends most of a code in choosing the mask (eight trial
encodings scored in pure Python) and in its polynomial Reed-Solomon. A sheet of
labels has codes of one shape, so everything that depends only on version, error
correction level and mask is computed once here from ``qrcode``'s own tables and
function patterns:

- the blank matrix (finder, timing and alignment patterns, format and version bits),
- the placement order of the data modules and the mask bit of each,
- the Reed-Solomon generator polynomials (log/antilog tables over GF(256), 0x11d).

Each code then costs one pass of table-driven Reed-Solomon and one pass over the
data modules. The result equals ``qrcode``'s matrix for the same version, level,
mask and byte-mode data (tests check this), and it is decodable by any reader:
a fixed mask is allowed by ISO/IEC 18004, the penalty score only helps marginal scans.
"""
from __future__ import annotations

import re
from functools import lru_cache

from qrcode import base, util
from qrcode.constants import ERROR_CORRECT_M
from qrcode.main import QRCode

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


_BYTE_BITS = [tuple(bool((w >> (7 - k)) & 1) for k in range(8)) for w in range(256)]
_RUN = re.compile(b"\x01+")


def _generator(degree: int) -> list[int]:
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        poly = nxt
    return poly


def _rs_remainder(data: bytes | list[int], gen_logs: list[int]) -> list[int]:
    degree = len(gen_logs)
    rem = [0] * degree
    exp = _EXP
    log = _LOG
    for byte in data:
        factor = byte ^ rem[0]
        del rem[0]
        rem.append(0)
        if factor:
            lf = log[factor]
            for k in range(degree):
                rem[k] ^= exp[lf + gen_logs[k]]
    return rem


def byte_capacity(version: int, level: int = ERROR_CORRECT_M) -> int:
    bits = sum(b.data_count for b in base.rs_blocks(version, level)) * 8
    header = 4 + (8 if version < 10 else 16)
    return (bits - header) // 8


def version_for(length: int, level: int = ERROR_CORRECT_M) -> int:
    for version in range(1, 41):
        if byte_capacity(version, level) >= length:
            return version
    raise ValueError("data too long for a QR code")


class FastQR:
    """Encode byte strings as QR matrices of one version, level and mask."""

    def __init__(self, version: int, level: int = ERROR_CORRECT_M, mask: int = 2):
        self.version, self.level, self.mask = version, level, mask
        self.size = version * 4 + 17
        self.capacity = byte_capacity(version, level)
        self.blocks = base.rs_blocks(version, level)
        self.data_total = sum(b.data_count for b in self.blocks)
        self.count_bits = 8 if version < 10 else 16
        self._gen_logs = {}
        for b in self.blocks:
            degree = b.total_count - b.data_count
            if degree not in self._gen_logs:
                self._gen_logs[degree] = [_LOG[c] for c in _generator(degree)[1:]]
        # The blank matrix with function patterns, from qrcode itself.
        q = QRCode(version=version, error_correction=level, border=0, mask_pattern=mask)
        q.modules_count = self.size
        q.modules = [[None] * self.size for _ in range(self.size)]
        q.setup_position_probe_pattern(0, 0)
        q.setup_position_probe_pattern(self.size - 7, 0)
        q.setup_position_probe_pattern(0, self.size - 7)
        q.setup_position_adjust_pattern()
        q.setup_timing_pattern()
        q.setup_type_info(False, mask)
        if version >= 7:
            q.setup_type_number(False)
        self.blank = q.modules
        # The data modules in placement order, and their mask bits.
        mask_func = util.mask_func(mask)
        order: list[tuple[int, int]] = []
        n = self.size
        inc, row = -1, n - 1
        for col in range(n - 1, 0, -2):
            if col <= 6:
                col -= 1
            while True:
                for c in (col, col - 1):
                    if self.blank[row][c] is None:
                        order.append((row, c))
                row += inc
                if row < 0 or n <= row:
                    row -= inc
                    inc = -inc
                    break
        self.order = order
        self.mask_bits = [bool(mask_func(r, c)) for r, c in order]
        self.fixed_rows = [[bool(v) if v is not None else False for v in row] for row in self.blank]

    def codewords(self, data: bytes) -> list[int]:
        if len(data) > self.capacity:
            raise ValueError(f"{len(data)} bytes do not fit version {self.version}")
        # mode 0100, count, data, terminator, pad to byte, pad bytes
        bits = (0b0100 << self.count_bits | len(data))
        nbits = 4 + self.count_bits
        value = int.from_bytes(data, "big") if data else 0
        bits = (bits << (8 * len(data))) | value
        nbits += 8 * len(data)
        limit = self.data_total * 8
        term = min(4, limit - nbits)
        bits <<= term
        nbits += term
        if nbits % 8:
            pad = 8 - nbits % 8
            bits <<= pad
            nbits += pad
        out = list(bits.to_bytes(nbits // 8, "big"))
        fill = (0xEC, 0x11)
        i = 0
        while len(out) < self.data_total:
            out.append(fill[i % 2])
            i += 1
        # Split into blocks, add Reed-Solomon, interleave.
        data_blocks, ecc_blocks, pos = [], [], 0
        for b in self.blocks:
            chunk = out[pos:pos + b.data_count]
            pos += b.data_count
            data_blocks.append(chunk)
            ecc_blocks.append(_rs_remainder(chunk, self._gen_logs[b.total_count - b.data_count]))
        result: list[int] = []
        for i in range(max(len(d) for d in data_blocks)):
            result.extend(d[i] for d in data_blocks if i < len(d))
        for i in range(max(len(e) for e in ecc_blocks)):
            result.extend(e[i] for e in ecc_blocks if i < len(e))
        return result

    def matrix(self, data: bytes) -> list[list[bool]]:
        """The code as rows of booleans (True = dark), without quiet zone."""
        words = self.codewords(data)
        rows = [r[:] for r in self.fixed_rows]
        bits = [b for w in words for b in _BYTE_BITS[w]]
        bits.extend([False] * (len(self.order) - len(bits)))
        for (r, c), bit, m in zip(self.order, bits, self.mask_bits):
            rows[r][c] = bit is not m
        return rows

    def runs(self, data: bytes) -> list[tuple[int, int, int]]:
        """Dark modules as horizontal runs (row, first column, length): fewer shapes to draw."""
        out = []
        finder = _RUN.finditer
        for r, row in enumerate(self.matrix(data)):
            for m in finder(bytes(row)):
                out.append((r, m.start(), m.end() - m.start()))
        return out


@lru_cache(maxsize=16)
def encoder(version: int, level: int = ERROR_CORRECT_M, mask: int = 2) -> FastQR:
    return FastQR(version, level, mask)
