"""Pictures of results for notebooks: a probability bar chart per face as
SVG, next to the annotated image. Drawn here, with no plotting library.

Jupyter calls ``_repr_svg_`` / ``_repr_png_`` on the objects that
``analyze`` returns; these functions make the text those methods return.
"""

import base64
from xml.sax.saxutils import escape, quoteattr

# Layout of one face's panel, in SVG user units (pixels).
PANEL_WIDTH = 330
LABEL_WIDTH = 72      # class names, left of the bars
BAR_WIDTH = 180       # the bar of a probability of 1
ROW_HEIGHT = 18
HEADER_HEIGHT = 24
GAP = 10
IMAGE_SIDE = 360      # the longer side of the image shown next to the bars
FONT = "font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\""


def _hex(rgb):
    return "#%02x%02x%02x" % tuple(rgb)


def _panel(face, number, top):
    """SVG elements of one face's chart, ``top`` pixels down."""
    from .analyze import expression_color
    names = list(face.probabilities)
    out = ['<g class="face" transform="translate(0,%d)">' % top]
    title = "face %d: %s %.0f%%" % (number, face.label, 100.0 * face.confidence)
    out.append('<text x="4" y="16" font-weight="bold" %s>%s</text>' % (FONT, escape(title)))
    for i, name in enumerate(names):
        p = float(face.probabilities[name])
        y = HEADER_HEIGHT + i * ROW_HEIGHT
        color = _hex(expression_color(name, i))
        out.append('<g class="row">')
        out.append('<title>%s</title>' % escape("%s: %.4f" % (name, p)))
        out.append('<text x="%d" y="%d" text-anchor="end" %s>%s</text>'
                   % (LABEL_WIDTH, y + 13, FONT, escape(name)))
        out.append('<rect class="track" x="%d" y="%d" width="%d" height="%d" fill="#eeeeee"/>'
                   % (LABEL_WIDTH + 6, y + 2, BAR_WIDTH, ROW_HEIGHT - 4))
        out.append('<rect class="bar" x="%d" y="%d" width="%.3f" height="%d" fill="%s"/>'
                   % (LABEL_WIDTH + 6, y + 2, BAR_WIDTH * min(max(p, 0.0), 1.0),
                      ROW_HEIGHT - 4, color))
        out.append('<text x="%d" y="%d" %s>%.0f%%</text>'
                   % (LABEL_WIDTH + 12 + BAR_WIDTH, y + 13, FONT, 100.0 * p))
        out.append('</g>')
    out.append('</g>')
    return out, HEADER_HEIGHT + len(names) * ROW_HEIGHT


def _document(width, height, body):
    return ('<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" '
            'viewBox="0 0 %d %d">\n%s\n</svg>\n'
            % (width, height, width, height, "\n".join(body)))


def faces_svg(faces, image=None):
    """An SVG document: ``image`` (a libfer.Image, shown at most
    IMAGE_SIDE pixels on its longer side) on the left when given, and one
    probability bar chart per face of ``faces`` on the right, in order."""
    body, left, image_height = [], 0, 0
    if image is not None:
        w, h = image.width, image.height
        scale = min(1.0, float(IMAGE_SIDE) / max(w, h))
        shown_w, shown_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
        small = image if scale == 1.0 else image.resize(shown_w, shown_h, "area")
        data = base64.b64encode(small.encode("png")).decode("ascii")
        body.append('<image x="0" y="0" width="%d" height="%d" xlink:href=%s/>'
                    % (shown_w, shown_h, quoteattr("data:image/png;base64," + data)))
        left, image_height = shown_w + GAP, shown_h
    top = 0
    for number, face in enumerate(faces, 1):
        panel, height = _panel(face, number, top)
        body.append('<g transform="translate(%d,0)">' % left)
        body.extend(panel)
        body.append('</g>')
        top += height + GAP
    if not len(faces):
        body.append('<text x="%d" y="16" %s>no face found</text>' % (left + 4, FONT))
        top = HEADER_HEIGHT + GAP
    return _document(left + PANEL_WIDTH, max(top - GAP, image_height, 1), body)
