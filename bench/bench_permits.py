"""Benchmark: permit cards per second, beside a bare page with the same text, fonts and photo.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_permits.py [--count 200] [--rounds 5]

Both sides render one A6-landscape page per PDF, in invariant mode, with the same fonts
(TrueType subsets embedded), the same strings and the same photo (the 300-dpi JPEG the
permit embeds). The bare page only draws the strings at fixed places: no layout (fitting,
wrapping), no frame or bands, no QR code. Each permit carries its own signed token, so
every QR code differs. The target: a permit costs at most twice the bare page.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from app.documents import permits  # noqa: E402
from app.documents.fonts import SANS_BOLD, SANS_ITALIC, SERIF_BOLD, register_fonts  # noqa: E402
from app.documents.permits import PAGE_SIZE, PermitContent, render_permit  # noqa: E402
from app.documents import qr  # noqa: E402
from app.documents.qr import _bits, _outlines, best_symbol  # noqa: E402
from app.verification.tokens import KeyRing, generate_key  # noqa: E402

BASE_URL = "https://pressdesk.tayninh.gov.vn"


def sample_photo(seed: int = 0) -> bytes:
    """A 1200 x 1600 JPEG of a drawn head and shoulders, like a scanned passport photo."""
    image = Image.new("RGB", (1200, 1600), (190 + seed % 40, 205, 225))
    draw = ImageDraw.Draw(image)
    draw.ellipse((400, 330, 800, 830), fill=(225, 185, 160))
    draw.rectangle((240, 950, 960, 1600), fill=(40, 60, 110 + seed % 100))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90)
    return output.getvalue()


def permit_contents(count: int, photo: bytes | None, distinct_photos: bool = False) -> list[PermitContent]:
    with tempfile.TemporaryDirectory() as directory:
        generate_key(directory)
        key_ring = KeyRing.from_directory(directory)
    contents = []
    for number in range(1, count + 1):
        token = key_ring.sign(10_000 + number, date(2027, 3, 1), date(2027, 3, 15))
        contents.append(PermitContent(
            issuing_body_vi="ỦY BAN NHÂN DÂN TỈNH TÂY NINH", issuing_body_en="People's Committee of Tay Ninh Province",
            province_vi="Tỉnh Tây Ninh", province_en="Tay Ninh Province", register_number=f"{number}/GP-BC",
            holder_name="Nguyễn Thị Hoa", nationality="Pháp / France", outlet="Agence France-Presse (AFP)",
            role_vi="Phóng viên", role_en="Reporter", valid_from=date(2027, 3, 1), valid_until=date(2027, 3, 15),
            places=["Phường Tân Ninh", "Xã Phước Chỉ", "Cửa khẩu quốc tế Mộc Bài", "Xã Tân Đông", "Núi Bà Đen"],
            border_places={"Cửa khẩu quốc tế Mộc Bài", "Xã Tân Đông"},
            escort_name="Trần Văn Nam", escort_phone="+84 912 345 678",
            photo=sample_photo(number) if distinct_photos else photo,
            verification_url=f"{BASE_URL}/v/{token}", demo=False))
    return contents


def page_strings(content: PermitContent) -> list[tuple[str, str, float]]:
    """(text, font, size) of every string the permit prints, for the bare page."""
    return [
        (content.issuing_body_vi, SERIF_BOLD, 7.0), (content.issuing_body_en, SANS_ITALIC, 5.4),
        (f"Số / No.: {content.register_number}", SANS_BOLD, 7.5),
        (permits.NATIONAL_NAME, SERIF_BOLD, 6.6), (permits.NATIONAL_MOTTO, SERIF_BOLD, 7.2),
        ("Socialist Republic of Viet Nam", SANS_ITALIC, 5.4),
        ("GIẤY PHÉP HOẠT ĐỘNG BÁO CHÍ", SANS_BOLD, 12.5), ("PRESS ACTIVITY PERMIT", SANS_BOLD, 7.0),
        ("HỌ VÀ TÊN / ", SANS_BOLD, 5.6), ("Full name", SANS_ITALIC, 5.6), (content.holder_name, SANS_BOLD, 13.5),
        ("QUỐC TỊCH / ", SANS_BOLD, 5.6), ("Nationality", SANS_ITALIC, 5.6), (content.nationality, SANS_BOLD, 8.2),
        ("CƠ QUAN BÁO CHÍ / ", SANS_BOLD, 5.6), ("Media outlet", SANS_ITALIC, 5.6), (content.outlet, SANS_BOLD, 8.2),
        ("CHỨC DANH / ", SANS_BOLD, 5.6), ("Role", SANS_ITALIC, 5.6),
        (f"{content.role_vi} / {content.role_en}", SANS_BOLD, 8.2),
        ("Quét mã để kiểm tra", SANS_BOLD, 6.2), ("Scan to verify", SANS_ITALIC, 5.8),
        ("THỜI HẠN HOẠT ĐỘNG TẠI TỈNH TÂY NINH / ", SANS_BOLD, 5.6), ("Valid in Tay Ninh Province", SANS_ITALIC, 5.6),
        ("từ ngày 01/03/2027 đến ngày 15/03/2027", SANS_BOLD, 10.5),
        ("valid from 1 March 2027 to 15 March 2027", SANS_ITALIC, 7.0),
        ("ĐỊA ĐIỂM ĐƯỢC PHÉP HOẠT ĐỘNG / ", SANS_BOLD, 5.6), ("Approved places", SANS_ITALIC, 5.6),
        ("khu vực biên giới / border area", SANS_BOLD, 5.6),
        *[(place, SANS_BOLD, 7.4) for place in content.places],
        ("CÁN BỘ HƯỚNG DẪN / ", SANS_BOLD, 5.6), ("Escort", SANS_ITALIC, 5.6), (content.escort_name, SANS_BOLD, 7.6),
        (f"ĐT / Tel. {content.escort_phone}", SANS_BOLD, 7.6),
    ]


def render_bare_page(content: PermitContent, photo_jpeg: bytes | None) -> bytes:
    """The same strings, fonts and photo on the same page size, without layout or QR code."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, invariant=1, pageCompression=1)
    canvas.setTitle("Giấy phép hoạt động báo chí / Press activity permit")
    if photo_jpeg:
        canvas.drawImage(ImageReader(io.BytesIO(photo_jpeg)), 20, 90, 76.5, 102)
    y = PAGE_SIZE[1] - 20
    for text, font, size in page_strings(content):
        canvas.setFont(font, size)
        canvas.drawString(110, y, text)
        y -= 7
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def segno_masked_symbol(data: str):
    """The symbol as segno builds it when it chooses the mask itself (its cell-by-cell scoring)."""
    import segno

    matrix = segno.make_qr(data, error=qr.ERROR_LEVEL).matrix
    return len(matrix), [_bits(row) for row in matrix], [_bits(column) for column in zip(*matrix)]


def per_page_seconds(render, contents, clock=time.process_time) -> float:
    """Seconds per item. CPU time of this process by default: other work on the machine
    (a shared 2-core box) then slows both sides less unevenly than wall-clock time does."""
    start = clock()
    for content in contents:
        render(content)
    return (clock() - start) / len(contents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="pages per measurement (default 200)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds; the best round of each side counts (default 5)")
    arguments = parser.parse_args()

    register_fonts()
    photo = sample_photo()
    contents = permit_contents(arguments.count, photo)
    photo_jpeg = permits._card_photo(photo)  # what the permit embeds, after the first render
    render_permit(contents[0])  # warm up: fonts parsed, photo prepared, modules imported
    render_bare_page(contents[0], photo_jpeg)

    bare, permit = [], []
    for _ in range(arguments.rounds):  # alternate, so both sides see the same machine load
        bare.append(per_page_seconds(lambda content: render_bare_page(content, photo_jpeg), contents))
        permit.append(per_page_seconds(render_permit, contents))
    fresh_photos = permit_contents(max(20, arguments.count // 10), None, distinct_photos=True)
    permit_new_photo = per_page_seconds(render_permit, fresh_photos)
    qr.best_symbol = segno_masked_symbol  # for comparison only: what choosing the mask costs in segno
    try:
        permit_segno_mask = per_page_seconds(render_permit, contents[: max(20, arguments.count // 4)])
    finally:
        qr.best_symbol = best_symbol

    urls = [content.verification_url for content in contents[:50]]
    symbol_seconds = per_page_seconds(best_symbol, urls)
    symbols = [best_symbol(url) for url in urls]
    outline_seconds = per_page_seconds(lambda symbol: _outlines(*symbol), symbols)

    best_bare, best_permit = min(bare), min(permit)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"pages per measurement: {arguments.count}, rounds: {arguments.rounds} (best round counts)")
    print(f"{'bare page (text, fonts, photo)':<44}{1 / best_bare:8.1f} pages/s {best_bare * 1000:8.2f} ms/page"
          f"   rounds: {', '.join(f'{s * 1000:.2f}' for s in bare)} ms")
    print(f"{'permit (same photo, cached)':<44}{1 / best_permit:8.1f} pages/s {best_permit * 1000:8.2f} ms/page"
          f"   rounds: {', '.join(f'{s * 1000:.2f}' for s in permit)} ms")
    print(f"{'permit (a new photo each time)':<44}{1 / permit_new_photo:8.1f} pages/s "
          f"{permit_new_photo * 1000:8.2f} ms/page")
    print(f"{'permit, segno choosing the mask itself':<44}{1 / permit_segno_mask:8.1f} pages/s "
          f"{permit_segno_mask * 1000:8.2f} ms/page")
    print(f"{'  in a permit: QR symbol (segno + mask)':<44}{'':17}{symbol_seconds * 1000:8.2f} ms")
    print(f"{'  in a permit: QR outline tracing':<44}{'':17}{outline_seconds * 1000:8.2f} ms")
    ratio = best_permit / best_bare
    print(f"ratio permit / bare page: {ratio:.2f} (target <= 2.00): {'OK' if ratio <= 2 else 'ABOVE TARGET'}")
    print(f"median ratio over rounds: {statistics.median(p / b for p, b in zip(permit, bare)):.2f}")


if __name__ == "__main__":
    main()
