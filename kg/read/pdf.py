"""PDF: the text layer of every page, or a reason why there is none to read."""
from __future__ import annotations

import contextlib
import io
import logging
import unicodedata

from .errors import Fail, short_reason


@contextlib.contextmanager
def _quiet_pypdf():
    """pypdf logs a warning for every small defect of real-world PDFs; we report our own."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.ERROR + 1)
    try:
        yield
    finally:
        logger.setLevel(old)


def read_pdf(data: bytes) -> str:
    if b"%PDF-" not in data[:1024]:
        raise Fail("not a valid PDF (no %PDF header)")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as e:
            raise Fail(f"not a valid PDF ({short_reason(e)})") from None
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password just to set permissions.
            try:
                ok = reader.decrypt("")
            except DependencyError:
                raise Fail("encrypted PDF (decrypting needs the 'cryptography' package)") from None
            except Exception:
                ok = 0
            if not ok:
                raise Fail("encrypted PDF (password required)")
        pages = []
        try:
            for page in reader.pages:
                pages.append((page.extract_text() or "").rstrip("\n"))
        except FileNotDecryptedError:
            raise Fail("encrypted PDF (password required)") from None
        except Exception as e:
            raise Fail(f"not a valid PDF (page {len(pages) + 1}: {short_reason(e)})") from None
    text = "\n".join(pages)
    visible = "".join(text.split())
    if not visible:
        raise Fail("PDF has no text layer (scanned?); OCR it first")
    # Fonts without a Unicode map extract as boxes and private-use codes, not text.
    unreadable = sum(1 for c in visible
                     if c in "\ufffd\u25a0" or unicodedata.category(c) in ("Co", "Cc"))
    if unreadable * 2 > len(visible):
        raise Fail("PDF text layer is unreadable (fonts without Unicode map); OCR it first")
    return text
