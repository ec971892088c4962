"""Hostile inputs for the reliability tests, built on the fly (nothing big or binary is committed).

Every maker takes the path to write and returns it; the caller's tmp directory holds the result.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = sorted(CORPUS.glob("0*.txt"))
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
HOSTILE_VALUE = '乳山市" } ; DROP ALL ; #'


def seed_text(k: int) -> str:
    return SEEDS[k % len(SEEDS)].read_text(encoding="utf-8")


def kg(*args, cwd, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m kg ARGS` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "kg", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def kg_popen(*args, cwd, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kg", *map(str, args)], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def no_traceback(*outputs: str) -> None:
    for out in outputs:
        assert "Traceback" not in out and 'File "' not in out, out[-3000:]


# ------------------------------------------------------------------------------ corpora

def copy_corpus(directory: Path, n: int = 40, version: int = 0) -> dict[str, bytes]:
    """n report files made from the seeds, each with a small edit so that all hashes differ;
    `version` changes every file again. Returns {file name: bytes}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for k in range(n):
        text = seed_text(k) + f"\n附：第{k}份副本，第{version}版。\n"
        data = text.encode("utf-8")
        (directory / f"d{k:02d}.txt").write_bytes(data)
        out[f"d{k:02d}.txt"] = data
    return out


def big_text_file(path: Path, size: int) -> Path:
    """A single .txt of `size` bytes (about): the seeds' text repeated, one report after another."""
    unit = ("\n".join(seed_text(k) for k in range(len(SEEDS))) + "\n").encode("utf-8")
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(unit)
            written += len(unit)
    return path


# ------------------------------------------------------------------------------ hostile files

REPORT_LINES = [
    "XX市司法局关于2024年法治政府建设情况的报告",
    "2024年，我局全面落实行政执法公示制度、执法全过程记录制度。",
    "一、主要举措和成效",
    "全年聘请法律顾问2名，办理行政复议案件35件。",
]


def deep_html(path: Path, depth: int = 5000, tag: str = "div") -> Path:
    body = "".join(f"<p>{line}</p>" for line in REPORT_LINES)
    opener = "".join(f'<{tag} class="c{i % 7}">' for i in range(depth))
    path.write_text(f"<html><head><meta charset='utf-8'></head><body>{opener}{body}"
                    f"{f'</{tag}>' * depth}</body></html>", encoding="utf-8")
    return path


def zip_bomb_docx(path: Path, size: int = 300 * 1024 * 1024) -> Path:
    """A .docx-shaped zip whose document.xml inflates to `size` bytes (written in chunks)."""
    chunk = b"0" * (4 * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return path


def pdf(path: Path, pages, encrypt=None) -> Path:
    """A PDF in reportlab's built-in CID font; an empty page gets a filled box but no text."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), encrypt=encrypt)
    for lines in pages:
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(lines):
            c.drawString(72, 760 - 20 * i, line)
        if not lines:
            c.rect(72, 72, 300, 300, fill=1)
        c.showPage()
    c.save()
    return path


def encrypted_pdf(path: Path) -> Path:
    return pdf(path, [REPORT_LINES], encrypt="secret")


def textless_pdf(path: Path) -> Path:
    return pdf(path, [[], []])


def encoded(path: Path, text: str, encoding: str, errors: str = "strict") -> Path:
    path.write_bytes(text.encode(encoding, errors=errors))
    return path


def traditional(text: str) -> str:
    import opencc
    return opencc.OpenCC("s2t").convert(text)
