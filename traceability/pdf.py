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
from typing import Callable, Iterable, Optional

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


class StreamingPdf:
    """A minimal PDF writer that writes each page as it is finished: memory stays flat.

    Text uses one embedded TrueType subset (at most 256 characters, known in advance:
    the sheet's fixed texts plus the serial alphabet and ASCII), built with reportlab's
    own subsetter; QR codes are filled rectangles. Objects 1-6 (catalog, page tree,
    font) are written at the end, pages from object 7 on.
    """

    FIRST_PAGE_OBJ = 7

    def __init__(self, out, page_w: float, page_h: float, font_name: str, chars: str, title: str = ""):
        from reportlab.pdfbase import pdfmetrics

        self.font = pdfmetrics.getFont(font_name)
        self.face = self.font.face
        self.subset = sorted({ord(c) for c in chars} | set(range(32, 127)))
        if len(self.subset) > 256:
            raise ValueError("more than 256 distinct characters")
        self.codes = {chr(c): i for i, c in enumerate(self.subset)}
        self.own = isinstance(out, (str, bytes)) or hasattr(out, "__fspath__")
        self.fh = open(out, "wb") if self.own else out
        self.pos = 0
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_obj = self.FIRST_PAGE_OBJ
        self.page_w, self.page_h, self.title = page_w, page_h, title
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def _obj(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[num] = self.pos
        if stream is None:
            self._write(b"%d 0 obj\n" % num + body + b"\nendobj\n")
        else:
            self._write(b"%d 0 obj\n" % num + body + b"\nstream\n" + stream + b"\nendstream\nendobj\n")

    def text(self, x: float, y: float, size: float, text: str) -> str:
        codes = self.codes
        hexed = "".join("%02x" % codes.get(c, codes["?"]) for c in text)
        return f"BT /F1 {size:.2f} Tf {x:.2f} {y:.2f} Td <{hexed}> Tj ET"

    def add_page(self, content: str) -> None:
        data = zlib.compress(content.encode("latin-1"), 6)
        stream_num, page_num = self.next_obj, self.next_obj + 1
        self.next_obj += 2
        self._obj(stream_num, b"<< /Length %d /Filter /FlateDecode >>" % len(data), data)
        self._obj(page_num, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {self.page_w:.2f} {self.page_h:.2f}] "
                             f"/Resources << /Font << /F1 3 0 R >> /ProcSet [/PDF /Text] >> "
                             f"/Contents {stream_num} 0 R >>").encode())
        self.pages.append(page_num)

    def close(self) -> None:
        from reportlab.pdfbase.ttfonts import makeToUnicodeCMap

        face = self.face
        base = "AAAAAA+" + (face.name + face.subfontNameX).decode("latin-1")
        widths = " ".join("%g" % face.getCharWidth(c) for c in self.subset)
        self._obj(3, (f"<< /Type /Font /Subtype /TrueType /BaseFont /{base} /FirstChar 0 "
                      f"/LastChar {len(self.subset) - 1} /Widths [{widths}] /FontDescriptor 4 0 R "
                      f"/ToUnicode 6 0 R >>").encode())
        flags = (face.flags & ~32) | 4
        bbox = " ".join("%g" % v for v in face.bbox)
        self._obj(4, (f"<< /Type /FontDescriptor /FontName /{base} /Flags {flags} /FontBBox [{bbox}] "
                      f"/ItalicAngle {face.italicAngle:g} /Ascent {face.ascent:g} /Descent {face.descent:g} "
                      f"/CapHeight {face.capHeight:g} /StemV {face.stemV:g} /MissingWidth {face.defaultWidth:g} "
                      f"/FontFile2 5 0 R >>").encode())
        font_file = face.makeSubset(self.subset)
        packed = zlib.compress(font_file, 6)
        self._obj(5, b"<< /Length %d /Length1 %d /Filter /FlateDecode >>" % (len(packed), len(font_file)), packed)
        cmap = zlib.compress(makeToUnicodeCMap(base, self.subset).encode("latin-1"))
        self._obj(6, b"<< /Length %d /Filter /FlateDecode >>" % len(cmap), cmap)
        kids = " ".join(f"{n} 0 R" for n in self.pages)
        self._obj(2, f"<< /Type /Pages /Count {len(self.pages)} /Kids [{kids}] >>".encode())
        self._obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        title = self.title.encode("utf-16-be").hex()
        info = self.next_obj
        self._obj(info, f"<< /Title <feff{title}> /Creator (GreenFin traceability) /Producer (GreenFin) >>".encode())
        xref_at = self.pos
        size = info + 1
        lines = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
        for num in range(1, size):
            lines.append(b"%010d 00000 n \n" % self.offsets[num] if num in self.offsets else b"0000000000 65535 f \n")
        self._write(b"".join(lines))
        self._write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, info, xref_at))
        if self.own:
            self.fh.close()


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def qr_ops(rects: str, x: float, y_top: float, module: float) -> str:
    """PDF operators filling a code's runs (``FastQR.rect_ops``) with its top-left module at (x, y_top)."""
    return f"q {module:.4f} 0 0 {-module:.4f} {x:.3f} {y_top:.3f} cm 0 g\n{rects}\nf Q"


def render_label_sheet(out, layout_name: str, text: LabelText, labels: Iterable[tuple[str, str]],
                       total: Optional[int] = None, progress: Optional[Callable[[int], None]] = None,
                       progress_every: int = 500) -> int:
    """Write a label sheet PDF to ``out`` (a path or binary file).

    ``labels`` yields (uri, serial) pairs and is consumed lazily, page by page; returns
    the number drawn. With an embedded TrueType CJK font the pages stream straight to
    ``out`` (flat memory); with reportlab's non-embedded fallback font a canvas is used.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    layout = LAYOUTS[layout_name]
    font = cjk_font()
    fixed = [text.product, f"批次 LOT {text.lot}", f"采收 {text.harvest_date}", text.marks, text.brand, "…"]
    chars = "".join(fixed) + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if isinstance(pdfmetrics.getFont(font), TTFont) and len({ord(c) for c in chars} | set(range(32, 127))) <= 256:
        return _render_streaming(out, layout, text, labels, font, chars, progress, progress_every)
    return _render_canvas(out, layout, text, labels, font, progress, progress_every)


class _Geometry:
    def __init__(self, layout: Layout):
        self.layout = layout
        w, h = layout.label_w, layout.label_h
        self.pad = min(w, h) * 0.05
        self.qr_side = min(h - 2 * self.pad, w * 0.55)
        self.fs_big = max(4.0, min(8.0, h / 5.2))
        self.fs_small = max(3.2, self.fs_big * 0.8)
        self.text_x_off = self.pad + self.qr_side + self.pad * 0.6
        self.text_w = w - self.text_x_off - self.pad

    def origin(self, slot: int) -> tuple[float, float]:
        layout = self.layout
        col, row = slot % layout.cols, slot // layout.cols
        x0 = layout.margin_x + col * (layout.label_w + layout.gap_x)
        y0 = layout.page_h - layout.margin_y - (row + 1) * layout.label_h - row * layout.gap_y
        return x0, y0

    def qr(self, x0: float, y0: float, size: int) -> tuple[float, float, float]:
        module = self.qr_side / (size + 2 * QUIET)
        h = self.layout.label_h
        qx = x0 + self.pad + QUIET * module
        qy_top = y0 + h - self.pad - QUIET * module - (h - 2 * self.pad - self.qr_side) / 2
        return qx, qy_top, module

    def lines(self, text: LabelText, x0: float, y0: float, font: str):
        """(x, y, size, string) of the fixed lines of a label at (x0, y0)."""
        x = x0 + self.text_x_off
        top = y0 + self.layout.label_h - self.pad - self.fs_big
        fs, fb, width = self.fs_small, self.fs_big, self.text_w
        out = [(x, top, fb, _fit(text.product, font, fb, width)),
               (x, top - fs * 1.3, fs, _fit(f"批次 LOT {text.lot}", font, fs, width)),
               (x, top - fs * 3.7, fs, _fit(f"采收 {text.harvest_date}", font, fs, width))]
        if text.marks:
            out.append((x, top - fs * 4.9, fs, _fit(text.marks, font, fs, width)))
        if text.brand:
            out.append((x, y0 + self.pad, fs * 0.9, _fit(text.brand, font, fs * 0.9, width)))
        return out

    def serial_at(self, x0: float, y0: float) -> tuple[float, float]:
        return x0 + self.text_x_off, y0 + self.layout.label_h - self.pad - self.fs_big - self.fs_small * 2.5


def _render_streaming(out, layout, text, labels, font, chars, progress, progress_every) -> int:
    geo = _Geometry(layout)
    pdf = StreamingPdf(out, layout.page_w, layout.page_h, font, chars, title=f"{text.product} {text.lot}")
    static = [None] * layout.per_page
    parts: list[str] = []
    qr = None
    n = 0
    for uri, serial in labels:
        slot = n % layout.per_page
        if slot == 0 and n:
            pdf.add_page("\n".join(parts))
            parts = []
        x0, y0 = geo.origin(slot)
        data = uri.encode()
        if qr is None or len(data) > qr.capacity:
            qr = encoder(version_for(len(data)), mask=MASK)
        qx, qy_top, module = geo.qr(x0, y0, qr.size)
        parts.append(qr_ops(qr.rect_ops(data), qx, qy_top, module))
        if static[slot] is None:
            static[slot] = "\n".join(pdf.text(x, y, size, line) for x, y, size, line in geo.lines(text, x0, y0, font))
        parts.append(static[slot])
        sx, sy = geo.serial_at(x0, y0)
        parts.append(pdf.text(sx, sy, geo.fs_small, _fit(serial, font, geo.fs_small, geo.text_w)))
        n += 1
        if progress and n % progress_every == 0:
            progress(n)
    pdf.add_page("\n".join(parts))
    pdf.close()
    if progress:
        progress(n)
    return n


def _render_canvas(out, layout, text, labels, font, progress, progress_every) -> int:
    geo = _Geometry(layout)
    canvas = _StreamingCanvas(out, pagesize=(layout.page_w, layout.page_h), pageCompression=0)
    canvas.setTitle(f"{text.product} {text.lot}")
    qr = None
    n = 0
    for uri, serial in labels:
        slot = n % layout.per_page
        if slot == 0 and n:
            canvas.showPage()
        x0, y0 = geo.origin(slot)
        data = uri.encode()
        if qr is None or len(data) > qr.capacity:
            qr = encoder(version_for(len(data)), mask=MASK)
        qx, qy_top, module = geo.qr(x0, y0, qr.size)
        canvas._code.append(qr_ops(qr.rect_ops(data), qx, qy_top, module))
        for x, y, size, line in geo.lines(text, x0, y0, font) + [(*geo.serial_at(x0, y0), geo.fs_small, serial)]:
            canvas.setFont(font, size)
            canvas.drawString(x, y, line)
        n += 1
        if progress and n % progress_every == 0:
            progress(n)
    canvas.showPage()
    canvas.save()
    if progress:
        progress(n)
    return n


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
