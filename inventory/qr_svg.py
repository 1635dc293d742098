"""QR symbols drawn as compact SVG: one path of dark runs on a white square, crisp at any
size. Item labels (stock) and two-factor enrolment (accounts) both draw them here."""
import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white border the QR standard asks for
DARK_RUN = re.compile(rb"\x01+")  # in a row of the matrix as bytes (True is 1)


def render_svg(payload: str, *, label: str = "QR code", mask_pattern: int | None = None) -> str:
    """The symbol for `payload`. With `mask_pattern` (0-7) that mask is used rather than the
    best of the eight: every reader reads any mask, and scoring all eight is nearly nine
    tenths of the work of drawing one."""
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, mask_pattern=mask_pattern)
    symbol.add_data(payload)
    symbol.make(fit=True)
    matrix = symbol.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        for run in DARK_RUN.finditer(bytes(row)):
            start, width = run.start(), run.end() - run.start()
            runs.append(f"M{start} {y}h{width}v1h-{width}z")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr" role="img" '
            f'aria-label="{label}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{"".join(runs)}" fill="#000"/></svg>')
