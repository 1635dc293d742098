"""Read QR symbols back with an independent decoder (OpenCV), from a PNG rendering of the
SVG the app prints."""
import re

import cv2
import numpy as np

SCALE = 8  # pixels per module
VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\3z")


def svg_to_png(svg: str) -> bytes:
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
    image = np.kron(modules, np.ones((SCALE, SCALE), dtype=np.uint8))
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes()


def decode_png(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None, "no QR symbol found"
    return text


def decode_svg(svg: str) -> str:
    return decode_png(svg_to_png(svg))
