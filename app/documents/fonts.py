"""Fonts for PressDesk's PDFs, taken from installed font packages and registered once per process.

Serif (letters): Crimson Text, an old-style serif whose widths are close to Times New Roman,
the official face of Decree 30/2020, with static Regular/Bold/Italic/BoldItalic TTFs that
cover every Vietnamese letter. Sans (permits): Be Vietnam Pro, drawn for Vietnamese.
Both are embedded as TrueType subsets, each with a ToUnicode map, so the text extracts.
"""
from __future__ import annotations

import threading
from importlib.resources import as_file, files

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SERIF = "CrimsonText"
SERIF_BOLD = "CrimsonText-Bold"
SERIF_ITALIC = "CrimsonText-Italic"
SERIF_BOLD_ITALIC = "CrimsonText-BoldItalic"
SANS = "BeVietnamPro"
SANS_BOLD = "BeVietnamPro-Bold"
SANS_ITALIC = "BeVietnamPro-Italic"
SANS_BOLD_ITALIC = "BeVietnamPro-BoldItalic"

# Registered name -> (package, file inside the package).
_FONT_FILES = {
    SERIF: ("fontpkg_crimson_text", "files/CrimsonText-Regular.ttf"),
    SERIF_BOLD: ("fontpkg_crimson_text", "files/CrimsonText-Bold.ttf"),
    SERIF_ITALIC: ("fontpkg_crimson_text", "files/CrimsonText-Italic.ttf"),
    SERIF_BOLD_ITALIC: ("fontpkg_crimson_text", "files/CrimsonText-BoldItalic.ttf"),
    SANS: ("fontpkg_be_vietnam_pro", "files/BeVietnamPro-Regular.ttf"),
    SANS_BOLD: ("fontpkg_be_vietnam_pro", "files/BeVietnamPro-Bold.ttf"),
    SANS_ITALIC: ("fontpkg_be_vietnam_pro", "files/BeVietnamPro-Italic.ttf"),
    SANS_BOLD_ITALIC: ("fontpkg_be_vietnam_pro", "files/BeVietnamPro-BoldItalic.ttf"),
}
FONT_NAMES = tuple(_FONT_FILES)

_lock = threading.Lock()
_registered = False


def register_fonts() -> tuple[str, ...]:
    """Register the serif and sans families with reportlab (once; later calls do nothing).

    Returns the registered font names. The families are mapped so that <b>/<i> in a
    Paragraph pick the matching face.
    """
    global _registered
    with _lock:
        if not _registered:
            for name, (package, relative) in _FONT_FILES.items():
                # TTFont reads the whole file at once, so a temporary path (zip installs) is enough.
                with as_file(files(package).joinpath(relative)) as path:
                    pdfmetrics.registerFont(TTFont(name, str(path)))
            for regular, bold, italic, bold_italic in ((SERIF, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC),
                                                       (SANS, SANS_BOLD, SANS_ITALIC, SANS_BOLD_ITALIC)):
                pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold, italic=italic,
                                              boldItalic=bold_italic)
            _registered = True
    return FONT_NAMES


def has_glyph(font_name: str, char: str) -> bool:
    """Whether the registered font ``font_name`` has a glyph for ``char``."""
    if not _registered:
        register_fonts()
    return ord(char) in pdfmetrics.getFont(font_name).face.charToGlyph
