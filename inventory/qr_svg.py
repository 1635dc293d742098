"""QR symbols drawn as compact SVG: one path of dark runs on a white square, crisp at any
size. Item labels (stock) and two-factor enrolment (accounts) both draw them here."""
import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white border the QR standard asks for


def render_svg(payload: str, *, label: str = "QR code") -> str:
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    symbol.add_data(payload)
    symbol.make(fit=True)
    matrix = symbol.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr" role="img" '
            f'aria-label="{label}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{"".join(runs)}" fill="#000"/></svg>')
