"""Read QR symbols back with an independent decoder (OpenCV), from a PNG rendering of the
SVG the app prints."""
import re

import cv2
import numpy as np

# OpenCV's classic detector misses about 1 symbol in 200 at a given size; its ArUco-based
# detector reads those. Both are tried, at a few pixel sizes: a symbol that none of them
# reads is a real failure.
SCALES = (8, 5, 11)
DETECTORS = (cv2.QRCodeDetectorAruco, cv2.QRCodeDetector)
VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\3z")


def svg_to_png(svg: str, scale: int = SCALES[0]) -> bytes:
    """Rasterise the app's QR SVG (a white square and one path of horizontal dark runs)."""
    size = int(VIEWBOX.search(svg).group(1))
    modules = np.full((size, size), 255, dtype=np.uint8)
    path = re.search(r'<path d="([^"]*)"', svg).group(1)
    consumed = 0
    for match in RUN.finditer(path):
        x, y, width = (int(g) for g in match.groups())
        modules[y, x:x + width] = 0
        consumed += len(match.group(0))
    assert consumed == len(path), "the SVG path holds commands this reader does not understand"
    image = np.kron(modules, np.ones((scale, scale), dtype=np.uint8))
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes()


def decode_png(png: bytes) -> str:
    """The text of the QR symbol in a PNG ("" when none is read)."""
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    for detector in DETECTORS:
        text, _points, _ = detector().detectAndDecode(image)
        if text:
            return text
    return ""


def decode_svg(svg: str) -> str:
    for scale in SCALES:
        text = decode_png(svg_to_png(svg, scale))
        if text:
            return text
    raise AssertionError("no QR symbol could be read")
