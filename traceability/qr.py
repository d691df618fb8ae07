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

from functools import lru_cache

import numpy as np

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


class _RS:
    """Reed-Solomon remainder with the remainder held as one integer (a byte per coefficient):
    each data byte costs a shift, a mask and an XOR with a precomputed row."""

    def __init__(self, gen_logs: list[int]):
        self.degree = degree = len(gen_logs)
        self.mask = (1 << (8 * degree)) - 1
        self.shift = 8 * (degree - 1)
        self.rows = [0] + [int.from_bytes(bytes(_EXP[_LOG[f] + g] for g in gen_logs), "big") for f in range(1, 256)]

    def remainder(self, data) -> list[int]:
        rem, rows, mask, shift = 0, self.rows, self.mask, self.shift
        for byte in data:
            rem = ((rem << 8) & mask) ^ rows[(rem >> shift) ^ byte]
        return list(rem.to_bytes(self.degree, "big"))


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
                self._gen_logs[degree] = _RS([_LOG[c] for c in _generator(degree)[1:]])
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
        self._template = np.array(self.fixed_rows, dtype=np.uint8).ravel()
        self._order_idx = np.array([r * n + c for r, c in order], dtype=np.intp)
        self._mask = np.array(self.mask_bits, dtype=np.uint8)

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
            ecc_blocks.append(self._gen_logs[b.total_count - b.data_count].remainder(chunk))
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

    def array(self, data: bytes) -> np.ndarray:
        """The code as an n x n uint8 array (1 = dark): the vectorised twin of ``matrix``."""
        bits = np.unpackbits(np.frombuffer(bytes(self.codewords(data)), dtype=np.uint8))
        full = np.zeros(len(self._order_idx), dtype=np.uint8)
        full[:len(bits)] = bits[:len(full)]
        flat = self._template.copy()
        flat[self._order_idx] = full ^ self._mask
        return flat.reshape(self.size, self.size)

    def runs(self, data: bytes) -> list[tuple[int, int, int]]:
        """Dark modules as horizontal runs (row, first column, length): fewer shapes to draw."""
        rows, starts, lengths = self._runs(data)
        return list(zip(rows.tolist(), starts.tolist(), lengths.tolist()))

    def _runs(self, data: bytes):
        m = self.array(data)
        padded = np.zeros((self.size, self.size + 2), dtype=np.int8)
        padded[:, 1:-1] = m
        d = np.diff(padded, axis=1)
        rows, starts = np.nonzero(d == 1)
        _rows, ends = np.nonzero(d == -1)
        return rows, starts, ends - starts

    def rect_ops(self, data: bytes) -> str:
        """PDF ``re`` operators, one per run, in module units (x = column, y = row)."""
        rows, starts, lengths = self._runs(data)
        return "\n".join(map("{} {} {} 1 re".format, starts.tolist(), rows.tolist(), lengths.tolist()))


@lru_cache(maxsize=16)
def encoder(version: int, level: int = ERROR_CORRECT_M, mask: int = 2) -> FastQR:
    return FastQR(version, level, mask)
