"""Label sheets: A4 grids and thermal rolls, QR codes drawn as vector runs.

Data in, PDF out. Each label carries its QR code (level M, quiet zone of four modules
kept white), product, lot, serial, harvest date and certification marks. QR modules
are drawn straight into the page stream as rectangles (one per horizontal run of dark
modules), which is many times faster than an image per label, and each page's stream
is compressed as soon as the page is finished, so a sheet of 100,000 labels keeps only
compressed pages in memory.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from greenfin.pdf import cjk_font
from traceability.qr import encoder, version_for

QUIET = 4  # modules of white around the code (ISO/IEC 18004)
MASK = 2


@dataclass(frozen=True)
class Layout:
    name: str
    page_w: float
    page_h: float
    cols: int
    rows: int
    label_w: float
    label_h: float
    margin_x: float
    margin_y: float
    gap_x: float = 0.0
    gap_y: float = 0.0

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


LAYOUTS = {
    "a4-3x8": Layout("a4-3x8", *A4, 3, 8, 70 * mm, 37 * mm, 0, 0.5 * mm),
    "a4-4x10": Layout("a4-4x10", *A4, 4, 10, 52.5 * mm, 29.7 * mm, 0, 0),
    "a4-5x13": Layout("a4-5x13", *A4, 5, 13, 38.1 * mm, 21.2 * mm, 4.7 * mm, 10.7 * mm, 2.5 * mm, 0),
    "roll-40x30": Layout("roll-40x30", 40 * mm, 30 * mm, 1, 1, 40 * mm, 30 * mm, 0, 0),
    "roll-50x30": Layout("roll-50x30", 50 * mm, 30 * mm, 1, 1, 50 * mm, 30 * mm, 0, 0),
}


@dataclass
class LabelText:
    """What is the same on every label of a lot."""

    product: str
    lot: str
    harvest_date: str
    marks: str  # certification marks, e.g. "绿色食品 · 地理标志"
    brand: str = ""


class _StreamingCanvas(Canvas):
    """Compress each page's content stream when the page ends instead of at save()."""

    def showPage(self):
        super().showPage()
        page = self._doc.Pages.pages[-1]
        stream = page.stream
        if stream:
            data = stream.encode("utf-8") if isinstance(stream, str) else stream
            s = pdfdoc.PDFStream(content=zlib.compress(data, 6))
            s.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
            s.__Comment__ = "page stream"
            page.Contents = s
            page.stream = None


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def qr_ops(runs: Iterable[tuple[int, int, int]], x: float, y_top: float, module: float) -> str:
    """PDF operators filling the dark runs of a code whose top-left data module is at (x, y_top)."""
    parts = [f"q {module:.4f} 0 0 {-module:.4f} {x:.3f} {y_top:.3f} cm 0 g"]
    parts.extend(f"{c} {r} {n} 1 re" for r, c, n in runs)
    parts.append("f Q")
    return "\n".join(parts)


def render_label_sheet(out, layout_name: str, text: LabelText, labels: Iterable[tuple[str, str]],
                       total: Optional[int] = None, progress: Optional[Callable[[int], None]] = None,
                       progress_every: int = 500) -> int:
    """Write a label sheet PDF to ``out`` (a path or binary file).

    ``labels`` yields (uri, serial) pairs and is consumed lazily; returns the number drawn.
    """
    layout = LAYOUTS[layout_name]
    font = cjk_font()
    canvas = _StreamingCanvas(out, pagesize=(layout.page_w, layout.page_h), pageCompression=0)
    canvas.setTitle(f"{text.product} {text.lot}")
    canvas.setCreator("GreenFin traceability")
    w, h = layout.label_w, layout.label_h
    pad = min(w, h) * 0.05
    qr_side = min(h - 2 * pad, w * 0.55)
    fs_big = max(4.0, min(8.0, h / 5.2))
    fs_small = max(3.2, fs_big * 0.8)
    text_x_off = pad + qr_side + pad * 0.6
    text_w = w - text_x_off - pad
    qr = None
    n = 0
    static_cache: dict[str, str] = {}
    for uri, serial in labels:
        slot = n % layout.per_page
        if slot == 0 and n:
            canvas.showPage()
        col, row = slot % layout.cols, slot // layout.cols
        x0 = layout.margin_x + col * (w + layout.gap_x)
        y0 = layout.page_h - layout.margin_y - (row + 1) * h - row * layout.gap_y
        data = uri.encode()
        if qr is None or len(data) > qr.capacity:
            qr = encoder(version_for(len(data)), mask=MASK)
        module = qr_side / (qr.size + 2 * QUIET)
        qx = x0 + pad + QUIET * module
        qy_top = y0 + h - pad - QUIET * module - (h - 2 * pad - qr_side) / 2
        code = canvas._code  # a new list on every page
        code.append(qr_ops(qr.runs(data), qx, qy_top, module))
        # Text block: the same lines on every label except the serial.
        key = f"{x0:.2f},{y0:.2f}"
        static = static_cache.get(key)
        if static is None:
            static = _text_block(canvas, text, x0 + text_x_off, y0, h, text_w, font, fs_big, fs_small)
            static_cache[key] = static
        code.append(static)
        canvas.setFont(font, fs_small)
        canvas.drawString(x0 + text_x_off, y0 + h - pad - fs_big * 1.2 - fs_small * 2.4,
                          _fit(serial, font, fs_small, text_w))
        n += 1
        if progress and n % progress_every == 0:
            progress(n)
    canvas.showPage()
    canvas.save()
    if progress:
        progress(n)
    return n


def _text_block(canvas: Canvas, text: LabelText, x: float, y0: float, h: float, width: float, font: str,
                fs_big: float, fs_small: float) -> str:
    """Draw the lines shared by every label at this position once, capture their operators."""
    code = canvas._code
    start = len(code)
    pad = h * 0.05
    top = y0 + h - pad - fs_big
    canvas.setFont(font, fs_big)
    canvas.drawString(x, top, _fit(text.product, font, fs_big, width))
    canvas.setFont(font, fs_small)
    canvas.drawString(x, top - fs_small * 1.3, _fit(f"批次 LOT {text.lot}", font, fs_small, width))
    canvas.drawString(x, top - fs_small * 3.7, _fit(f"采收 {text.harvest_date}", font, fs_small, width))
    if text.marks:
        canvas.drawString(x, top - fs_small * 4.9, _fit(text.marks, font, fs_small, width))
    if text.brand:
        canvas.drawString(x, y0 + pad, _fit(text.brand, font, fs_small * 0.9, width))
    block = "\n".join(code[start:])
    del code[start:]
    return block


def naive_label_sheet(out, text: LabelText, labels: Iterable[tuple[str, str]]) -> int:
    """The baseline: ``qrcode.make`` -> PNG -> ``drawImage`` per label (benchmarks only)."""
    import io

    import qrcode
    from reportlab.lib.utils import ImageReader

    layout = LAYOUTS["a4-3x8"]
    font = cjk_font()
    canvas = Canvas(out, pagesize=A4)
    n = 0
    for uri, serial in labels:
        slot = n % layout.per_page
        if slot == 0 and n:
            canvas.showPage()
        col, row = slot % layout.cols, slot // layout.cols
        x0 = col * layout.label_w
        y0 = layout.page_h - layout.margin_y - (row + 1) * layout.label_h
        buf = io.BytesIO()
        qrcode.make(uri, error_correction=qrcode.constants.ERROR_CORRECT_M).save(buf, format="PNG")
        buf.seek(0)
        canvas.drawImage(ImageReader(buf), x0 + 2 * mm, y0 + 2 * mm, 33 * mm, 33 * mm)
        canvas.setFont(font, 7)
        canvas.drawString(x0 + 37 * mm, y0 + 28 * mm, text.product[:10])
        canvas.drawString(x0 + 37 * mm, y0 + 22 * mm, f"批次 LOT {text.lot}")
        canvas.drawString(x0 + 37 * mm, y0 + 16 * mm, serial)
        n += 1
    canvas.showPage()
    canvas.save()
    return n


def iter_chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
