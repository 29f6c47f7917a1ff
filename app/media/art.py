"""Pictures drawn by code, for demo products and seller logos.

The motifs borrow from the crafts sold on the market: Baluch needlework (nested diamonds and
zigzag borders), painted pottery (concentric rings, petals, eight-pointed stars), palm-leaf mats
(twill weave), food (dates on a tray, pickle jars), soap bars and eco-lodge landscapes. No text is
drawn. Output depends only on the arguments (``random.Random`` seeded with a string is stable
across processes and Python versions), so demo data is reproducible.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from typing import Final

from PIL import Image, ImageDraw, ImageOps

__all__ = ["KINDS", "draw_logo", "draw_product_art", "normalise_kind"]

RGB = tuple[int, int, int]
Point = tuple[float, float]

#: Pattern families understood by :func:`draw_product_art`.
KINDS: Final = ("needlework", "pottery", "weave", "food", "soap", "stay", "generic")

_ALIASES: Final = {
    "embroidery": "needlework",
    "textile": "needlework",
    "textiles": "needlework",
    "handicraft": "needlework",
    "ceramic": "pottery",
    "ceramics": "pottery",
    "mat": "weave",
    "mats": "weave",
    "basket": "weave",
    "baskets": "weave",
    "palm": "weave",
    "dates": "food",
    "pickle": "food",
    "pickles": "food",
    "jam": "food",
    "sweets": "food",
    "cosmetics": "soap",
    "soaps": "soap",
    "lodge": "stay",
    "ecolodge": "stay",
    "eco-lodge": "stay",
    "tourism": "stay",
}


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _palettes(*groups: str) -> tuple[tuple[RGB, ...], ...]:
    return tuple(tuple(_hex(c) for c in group.split()) for group in groups)


# First colour of each palette is the background.
_PALETTES: Final = {
    "needlework": _palettes(
        "5c0f1b f2c14e 1b998b e4572e f7f3e3 2e86ab",
        "111827 e63946 f1c453 2a9d8f f4f1de 8d5fd3",
        "1d3557 e9c46a e76f51 f4f1de 2a9d8f d62828",
        "3d0c11 ffb703 219ebc fb8500 f1faee 8ac926",
    ),
    "pottery": _palettes(
        "f3ead8 1f4e8c 2aa6a0 c8553d f2b134 2b2d42",
        "efe3c8 0f4c75 3282b8 bbe1fa d1495b 1b262c",
        "f6efe1 126e82 51c4d3 d8e3e7 e07a5f 132c33",
        "e9dcc9 8c2f39 2f6690 f2a65a 3a7d44 22223b",
    ),
    "weave": _palettes(
        "d8b678 c99a52 e7cf9c 9c2a2a 2f6f4e 5b3f8c",
        "d2ad6c bb8c45 e4c894 1d5c96 b23a48 2f2f2f",
        "dcbf86 c49552 ecd6a8 3b7d3b c2571a 6d2e46",
    ),
    "food": _palettes(
        "f4ecdc b5342f 5b3216 8a4b24 e2b55b 3f6b2a",
        "f1e7d0 2e6e3e 7a3b13 a0522d e9c46a c1121f",
        "efe6d6 1f5f8b 4e2a14 91512a f4a261 6a994e",
    ),
    "soap": _palettes(
        "e8f1f2 f7c8d0 c7e9c0 fde2a6 cdb4db 6c9a8b",
        "f5efe6 e8b4bc b5d6b2 f9dc9c a9def9 7d8597",
        "eef5ea ffc8a2 d4a5a5 b8e0d2 f6e7a1 5e6472",
    ),
    "stay": _palettes(
        "87b6d6 f6d186 c98b52 a0623a 6b8f71 f2e8cf",
        "f0a868 f7d08a b8763e 8a4f2a 50795b fff1d0",
        "9ec9e2 ffe3a3 d19a66 9b5d36 4f772d f8ede3",
    ),
    "generic": _palettes(
        "14213d fca311 e5e5e5 2a9d8f e76f51 f4f1de",
        "f4f1de e07a5f 3d405b 81b29a f2cc8f 1d3557",
        "0b3954 bfd7ea ff6663 e0ff4f fefffe 087e8b",
    ),
}


def normalise_kind(kind: str) -> str:
    """Map a sector or kind name to one of :data:`KINDS` (unknown names give ``"generic"``)."""
    key = (kind or "").strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in KINDS else "generic"


def _shade(color: RGB, factor: float) -> RGB:
    """Darker for factor < 1, lighter (towards white) for factor > 1."""
    if factor <= 1:
        return (int(color[0] * factor), int(color[1] * factor), int(color[2] * factor))
    t = min(1.0, factor - 1)
    return (
        int(color[0] + (255 - color[0]) * t),
        int(color[1] + (255 - color[1]) * t),
        int(color[2] + (255 - color[2]) * t),
    )


def _star(cx: float, cy: float, r: float, points: int, inner: float, rot: float) -> list[Point]:
    pts: list[Point] = []
    for i in range(points * 2):
        radius = r if i % 2 == 0 else r * inner
        a = rot + math.pi * i / points
        pts.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return pts


def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float, n: int = 18) -> list[Point]:
    ca, sa = math.cos(angle), math.sin(angle)
    pts: list[Point] = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return pts


def _diamond(cx: float, cy: float, rx: float, ry: float) -> list[Point]:
    return [(cx, cy - ry), (cx + rx, cy), (cx, cy + ry), (cx - rx, cy)]


# --------------------------------------------------------------------------------------------
# Pattern families


def _needlework(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    bg, accents = pal[0], list(pal[1:])
    d.rectangle((0, 0, w, h), fill=bg)
    band = h / rng.choice((3, 4, 5))
    zig = band * rng.uniform(0.18, 0.26)
    row = 0
    y0 = 0.0
    while y0 < h:
        rng.shuffle(accents)
        # zigzag border: a row of triangles with a stitched line beneath
        step = zig * rng.choice((1.0, 1.3, 1.6))
        x = -step
        while x < w + step:
            d.polygon([(x, y0), (x + step / 2, y0 + zig), (x + step, y0)], fill=accents[0])
            d.polygon(
                [(x + step / 2, y0 + zig), (x + step, y0 + 2), (x + step * 1.5, y0 + zig)],
                fill=accents[1],
            )
            x += step
        d.line([(0, y0 + zig + 3), (w, y0 + zig + 3)], fill=accents[2], width=3)
        # nested diamonds
        cy = y0 + zig + (band - zig) / 2
        r = (band - zig) / 2 * 0.9
        rx = r * rng.uniform(0.75, 1.0)
        offset = rx if row % 2 else 0.0
        cx = -rx + offset
        layers = rng.choice((3, 4))
        while cx < w + rx:
            for k in range(layers):
                f = 1 - k / (layers + 0.4)
                d.polygon(_diamond(cx, cy, rx * f, r * f), fill=accents[(k + row) % len(accents)])
            s = r * 0.12
            d.rectangle((cx - s, cy - s, cx + s, cy + s), fill=bg)
            # small hooks between diamonds
            hx = cx + rx
            d.polygon(_diamond(hx, cy - r * 0.55, rx * 0.16, r * 0.16), fill=accents[-1])
            d.polygon(_diamond(hx, cy + r * 0.55, rx * 0.16, r * 0.16), fill=accents[-1])
            cx += 2 * rx
        y0 += band
        row += 1


def _pottery(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    bg, accents = pal[0], list(pal[1:])
    d.rectangle((0, 0, w, h), fill=bg)
    # scattered small dots on the background, like a glazed tile
    for _ in range(60):
        x, y, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, 8)
        d.ellipse((x - s, y - s, x + s, y + s), fill=_shade(bg, 0.9))
    plates = [(w * rng.uniform(0.42, 0.58), h * rng.uniform(0.45, 0.55), min(w, h) * 0.44)]
    for _ in range(rng.choice((1, 2))):
        corner = rng.choice(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))
        plates.append((w * corner[0], h * corner[1], min(w, h) * rng.uniform(0.22, 0.3)))
    for cx, cy, radius in reversed(plates):
        d.ellipse(
            (cx - radius + 10, cy - radius + 14, cx + radius + 10, cy + radius + 14),
            fill=_shade(bg, 0.8),
        )
        r = radius
        ring = 0
        while r > radius * 0.12:
            color = accents[ring % len(accents)]
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
            width = radius * rng.uniform(0.06, 0.13)
            motif = rng.random()
            mid = r - width / 2
            n = max(8, int(2 * math.pi * mid / (width * 1.4)))
            inner_color = accents[(ring + 2) % len(accents)]
            if motif < 0.4:
                for i in range(n):
                    a = 2 * math.pi * i / n
                    px, py = cx + mid * math.cos(a), cy + mid * math.sin(a)
                    s = width * 0.28
                    d.ellipse((px - s, py - s, px + s, py + s), fill=inner_color)
            elif motif < 0.75:
                for i in range(n):
                    a = 2 * math.pi * i / n
                    px, py = cx + mid * math.cos(a), cy + mid * math.sin(a)
                    d.polygon(_ellipse(px, py, width * 0.45, width * 0.18, a, 10), fill=inner_color)
            r -= width
            if r <= 0:  # the last ring was wider than what was left of the plate
                break
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=bg if ring % 3 == 2 else color)
            r -= width * 0.15
            ring += 1
        d.polygon(_star(cx, cy, radius * 0.16, 8, 0.5, rng.uniform(0, 1)), fill=accents[0])
        s = radius * 0.04
        d.ellipse((cx - s, cy - s, cx + s, cy + s), fill=bg)


def _weave(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    natural, dark_natural, light_natural = pal[0], pal[1], pal[2]
    dyes = list(pal[3:])
    s = rng.choice((30, 36, 40, 45))
    cols, rows = w // s + 1, h // s + 1
    every = rng.choice((4, 5, 6, 7))
    twill = rng.choice((2, 3))

    def strand(index: int, base: RGB) -> RGB:
        block = index // every
        if index % every == 0 or (block % 3 == 1 and index % every == 1):
            return dyes[block % len(dyes)]
        return base if index % 2 else _shade(base, 0.94)

    for i in range(rows):
        for j in range(cols):
            x0, y0 = j * s, i * s
            x1, y1 = x0 + s - 1, y0 + s - 1
            if (i + j) % (2 * twill) < twill:
                c = strand(i, light_natural)
                d.rectangle((x0, y0, x1, y1), fill=c)
                d.line([(x0, y0 + 2), (x1, y0 + 2)], fill=_shade(c, 1.25), width=2)
                d.line([(x0, y1 - 1), (x1, y1 - 1)], fill=_shade(c, 0.7), width=2)
            else:
                c = strand(j, natural)
                d.rectangle((x0, y0, x1, y1), fill=c)
                d.line([(x0 + 2, y0), (x0 + 2, y1)], fill=_shade(c, 1.25), width=2)
                d.line([(x1 - 1, y0), (x1 - 1, y1)], fill=_shade(c, 0.7), width=2)
    # a binding border, as on a finished mat
    b = s // 2
    d.rectangle((0, 0, w, b), fill=dark_natural)
    d.rectangle((0, h - b, w, h), fill=dark_natural)


def _gingham(d: ImageDraw.ImageDraw, w: int, h: int, base: RGB, stripe: RGB, size: int):
    d.rectangle((0, 0, w, h), fill=base)
    mid = tuple((a + b) // 2 for a, b in zip(base, stripe, strict=True))
    for x in range(0, w, size * 2):
        d.rectangle((x, 0, x + size - 1, h), fill=mid)
    for y in range(0, h, size * 2):
        d.rectangle((0, y, w, y + size - 1), fill=mid)
        for x in range(0, w, size * 2):
            d.rectangle((x, y, x + size - 1, y + size - 1), fill=stripe)


def _food(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    bg, cloth, date_dark, date_light, brass, leaf = pal
    _gingham(d, w, h, bg, cloth, rng.choice((30, 40, 50)))
    if rng.random() < 0.55:
        # dates on a brass tray
        cx, cy, r = w / 2, h / 2, min(w, h) * 0.44
        d.ellipse((cx - r + 12, cy - r + 16, cx + r + 12, cy + r + 16), fill=_shade(cloth, 0.6))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_shade(brass, 0.8))
        d.ellipse((cx - r * 0.92, cy - r * 0.92, cx + r * 0.92, cy + r * 0.92), fill=brass)
        for i in range(24):
            a = 2 * math.pi * i / 24
            px, py = cx + r * 0.96 * math.cos(a), cy + r * 0.96 * math.sin(a)
            d.ellipse((px - 5, py - 5, px + 5, py + 5), fill=_shade(brass, 1.3))
        for _ in range(rng.randint(26, 38)):
            a, dist = rng.uniform(0, 2 * math.pi), r * 0.78 * math.sqrt(rng.random())
            px, py = cx + dist * math.cos(a), cy + dist * math.sin(a)
            ang = rng.uniform(0, math.pi)
            c = date_dark if rng.random() < 0.6 else date_light
            d.polygon(_ellipse(px + 4, py + 5, 52, 28, ang), fill=_shade(brass, 0.7))
            d.polygon(_ellipse(px, py, 52, 28, ang), fill=c)
            d.polygon(
                _ellipse(px - 14 * math.cos(ang), py - 14 * math.sin(ang), 20, 7, ang, 10),
                fill=_shade(c, 1.35),
            )
        for _ in range(3):
            a = rng.uniform(0, 2 * math.pi)
            px, py = cx + r * 0.3 * math.cos(a), cy + r * 0.3 * math.sin(a)
            d.polygon(_ellipse(px, py, 70, 16, a), fill=leaf)
    else:
        # a row of pickle and jam jars
        n = rng.choice((3, 4))
        slot = w / n
        fills = [leaf, date_light, pal[1], brass, _shade(leaf, 1.3)]
        rng.shuffle(fills)
        base_y = h * 0.86
        d.rectangle((0, base_y, w, h), fill=_shade(date_light, 0.8))
        for k in range(n):
            jw = slot * rng.uniform(0.62, 0.75)
            jh = h * rng.uniform(0.5, 0.62)
            x0 = slot * k + (slot - jw) / 2
            y0 = base_y - jh
            content = fills[k % len(fills)]
            d.rounded_rectangle((x0 + 8, y0 + 12, x0 + jw + 8, base_y + 6), 40, fill=(0, 0, 0))
            d.rounded_rectangle((x0, y0, x0 + jw, base_y), 40, fill=_shade(content, 1.45))
            level = y0 + jh * rng.uniform(0.12, 0.25)
            d.rounded_rectangle((x0 + 10, level, x0 + jw - 10, base_y - 10), 32, fill=content)
            for _ in range(18):
                px = rng.uniform(x0 + 30, x0 + jw - 30)
                py = rng.uniform(level + 25, base_y - 30)
                s = rng.uniform(9, 22)
                d.ellipse(
                    (px - s, py - s, px + s, py + s), fill=_shade(content, rng.uniform(0.6, 1.3))
                )
            d.rectangle((x0 + jw * 0.12, y0 - 46, x0 + jw * 0.88, y0 + 6), fill=brass)
            for sx in range(int(x0 + jw * 0.12), int(x0 + jw * 0.88), 12):
                d.line([(sx, y0 - 46), (sx, y0 + 6)], fill=_shade(brass, 0.75), width=3)
            ly = y0 + jh * 0.45
            d.rectangle((x0, ly, x0 + jw, ly + jh * 0.2), fill=bg)
            d.polygon(_star(x0 + jw / 2, ly + jh * 0.1, jh * 0.075, 8, 0.55, 0), fill=cloth)
            d.line([(x0 + 18, y0 + 30), (x0 + 18, base_y - 40)], fill=(255, 255, 255), width=8)


def _soap(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    bg, colours, ink = pal[0], list(pal[1:-1]), pal[-1]
    d.rectangle((0, 0, w, h), fill=bg)
    for _ in range(14):
        x, y, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 60)
        d.ellipse((x - s, y - s, x + s, y + s), outline=_shade(bg, 0.85), width=3)
    bw, bh = w * 0.3, h * 0.22
    depth = bh * 0.28
    rows = [(3, h * 0.78), (2, h * 0.78 - bh - 8), (1, h * 0.78 - 2 * (bh + 8))]
    for count, y in rows:
        total = count * bw + (count - 1) * 16
        x = (w - total) / 2
        for _ in range(count):
            c = rng.choice(colours)
            d.rounded_rectangle(
                (x + 10, y + 12, x + bw + 10, y + bh + 12), 28, fill=_shade(bg, 0.75)
            )
            d.rounded_rectangle((x, y, x + bw, y + bh), 28, fill=_shade(c, 0.82))
            d.rounded_rectangle((x, y, x + bw, y + bh - depth), 28, fill=c)
            cx, cy = x + bw / 2, y + (bh - depth) / 2
            rr = (bh - depth) * 0.32
            d.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), outline=_shade(c, 0.7), width=4)
            d.polygon(_star(cx, cy, rr * 0.7, 8, 0.55, math.pi / 8), outline=_shade(c, 0.7))
            x += bw + 16
    for _ in range(rng.randint(5, 9)):
        x, y = rng.uniform(0, w), rng.uniform(h * 0.85, h)
        d.polygon(_ellipse(x, y, 42, 12, rng.uniform(0, math.pi)), fill=ink)
    for _ in range(10):
        x, y, s = rng.uniform(0, w), rng.uniform(0, h * 0.3), rng.uniform(12, 40)
        d.ellipse((x - s, y - s, x + s, y + s), outline=(255, 255, 255), width=3)
        d.arc(
            (x - s * 0.6, y - s * 0.6, x + s * 0.3, y + s * 0.3),
            190,
            260,
            fill=(255, 255, 255),
            width=3,
        )


def _ridge(w: int, base: float, amp: float, rng: random.Random, bottom: int) -> list[Point]:
    pts: list[Point] = [(0, bottom)]
    x, y = 0.0, base - rng.uniform(0, amp)
    while x < w:
        pts.append((x, y))
        x += rng.uniform(60, 160)
        y = min(base, max(base - amp, y + rng.uniform(-amp * 0.6, amp * 0.6)))
    pts += [(w, y), (w, bottom)]
    return pts


def _stay(img: Image.Image, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    sky, sun, wall, wall_dark, palm, cloth = pal
    gradient = Image.linear_gradient("L").resize((w, h))
    img.paste(ImageOps.colorize(gradient, _shade(sky, 0.85), _shade(sky, 1.45)))
    d = ImageDraw.Draw(img)
    sx, sy, sr = w * rng.uniform(0.15, 0.85), h * rng.uniform(0.12, 0.3), h * 0.08
    d.ellipse((sx - sr * 1.5, sy - sr * 1.5, sx + sr * 1.5, sy + sr * 1.5), fill=_shade(sun, 1.3))
    d.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=sun)
    d.polygon(_ridge(w, h * 0.48, h * 0.18, rng, h), fill=_shade(sky, 0.6))
    d.polygon(_ridge(w, h * 0.6, h * 0.12, rng, h), fill=_shade(wall_dark, 0.8))
    ground = h * 0.72
    d.rectangle((0, ground, w, h), fill=_shade(wall, 1.15))
    x = rng.uniform(-40, 40)
    while x < w:
        bw = rng.uniform(170, 280)
        bh = rng.uniform(110, 190)
        top = ground + 40 - bh
        d.rectangle((x, top, x + bw, ground + 40), fill=wall)
        d.rectangle((x + bw * 0.8, top, x + bw, ground + 40), fill=wall_dark)
        if rng.random() < 0.5:
            dr = bw * 0.28
            d.pieslice(
                (x + bw * 0.4 - dr, top - dr, x + bw * 0.4 + dr, top + dr), 180, 360, fill=wall
            )
        else:
            tw = bw * 0.18
            tx = x + bw * 0.15
            d.rectangle((tx, top - bh * 0.6, tx + tw, top), fill=wall_dark)
            for k in range(3):
                slot_x = tx + tw * (0.2 + 0.25 * k)
                d.rectangle(
                    (slot_x, top - bh * 0.55, slot_x + tw * 0.1, top - bh * 0.2), fill=(40, 25, 15)
                )
        dx = x + bw * 0.35
        d.rectangle((dx, ground - 20, dx + 34, ground + 40), fill=(70, 40, 22))
        d.pieslice((dx, ground - 37, dx + 34, ground - 3), 180, 360, fill=(70, 40, 22))
        d.rectangle((x + bw * 0.58, top + 30, x + bw * 0.7, top + 60), fill=cloth)
        x += bw + rng.uniform(20, 90)
    for _ in range(rng.randint(2, 4)):
        px, base = rng.uniform(0, w), h * rng.uniform(0.9, 0.98)
        top = base - rng.uniform(200, 300)
        d.line([(px, base), (px + rng.uniform(-20, 20), top)], fill=(92, 64, 38), width=14)
        for k in range(9):
            a = math.pi + math.pi * k / 8
            d.polygon(
                _ellipse(px + 60 * math.cos(a), top + 30 * math.sin(a) + 20, 70, 13, a), fill=palm
            )


def _generic(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, pal: Sequence[RGB]):
    bg, accents = pal[0], list(pal[1:])
    d.rectangle((0, 0, w, h), fill=bg)
    c = rng.choice((120, 150, 180, 225))
    rng.shuffle(accents)
    for i in range(-1, h // c + 2):
        for j in range(-1, w // c + 2):
            cx, cy = j * c + (c / 2 if i % 2 else 0), i * c
            d.polygon(_star(cx, cy, c * 0.45, 8, 0.72, math.pi / 8), fill=accents[(i + j) % 2])
            d.polygon(_star(cx, cy, c * 0.3, 8, 0.72, 0), fill=accents[2])
            s = c * 0.1
            d.polygon(_diamond(cx, cy, s, s), fill=accents[3])
            hx, hy = cx + c / 2, cy + c / 2
            d.polygon(_diamond(hx, hy, c * 0.12, c * 0.2), fill=accents[-1])


_DRAWERS: Final[dict[str, Callable[..., None]]] = {
    "needlework": _needlework,
    "pottery": _pottery,
    "weave": _weave,
    "food": _food,
    "soap": _soap,
    "generic": _generic,
}


def draw_product_art(
    title: str, *, seed: int, kind: str, size: tuple[int, int] = (1200, 900)
) -> bytes:
    """A colourful pattern picture as JPEG bytes, deterministic in ``(title, seed, kind, size)``.

    ``kind`` selects the motif family (see :data:`KINDS`; sector names such as ``"dates"`` or
    ``"ceramics"`` are mapped, unknown names give ``"generic"``). ``title`` only varies the
    composition; it is not written on the picture. The JPEG carries no metadata.
    """
    w, h = size
    if w < 16 or h < 16:
        raise ValueError("size must be at least 16x16")
    family = normalise_kind(kind)
    rng = random.Random(f"{family}:{seed}:{title}")
    palette = rng.choice(_PALETTES[family])
    img = Image.new("RGB", (w, h), palette[0])
    if family == "stay":
        _stay(img, w, h, rng, palette)
    else:
        _DRAWERS[family](ImageDraw.Draw(img), w, h, rng, palette)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=86)
    return buf.getvalue()


def draw_logo(seed: int, size: int = 256) -> bytes:
    """A round seller badge with a geometric motif on a transparent background, as PNG bytes."""
    if size < 16:
        raise ValueError("size must be at least 16")
    rng = random.Random(f"logo:{seed}")
    family = rng.choice(KINDS)
    pal = list(rng.choice(_PALETTES[family]))
    rng.shuffle(pal)
    big = size * 2  # drawn at twice the size and reduced, for smooth edges
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = big / 2
    r = big * 0.48
    d.ellipse((c - r, c - r, c + r, c + r), fill=pal[0])
    ring = big * 0.035
    d.ellipse((c - r + ring, c - r + ring, c + r - ring, c + r - ring), fill=pal[1])
    inner = r - 2 * ring
    d.ellipse((c - inner, c - inner, c + inner, c + inner), fill=pal[0])
    motif = rng.randrange(4)
    if motif == 0:
        d.polygon(_star(c, c, inner * 0.85, 8, 0.62, math.pi / 8), fill=pal[2])
        d.polygon(_star(c, c, inner * 0.5, 8, 0.62, 0), fill=pal[3])
    elif motif == 1:
        n = rng.choice((6, 8, 10, 12))
        for i in range(n):
            a = 2 * math.pi * i / n
            px, py = c + inner * 0.48 * math.cos(a), c + inner * 0.48 * math.sin(a)
            d.polygon(_ellipse(px, py, inner * 0.42, inner * 0.16, a), fill=pal[2 + i % 2])
    elif motif == 2:
        for k in range(4):
            f = 0.85 - k * 0.2
            d.polygon(_diamond(c, c, inner * f, inner * f), fill=pal[2 + k % 3])
    else:
        for k in range(5):
            rr = inner * (0.85 - k * 0.16)
            d.ellipse((c - rr, c - rr, c + rr, c + rr), fill=pal[2 + k % 3])
        d.polygon(_star(c, c, inner * 0.22, 8, 0.5, 0), fill=pal[0])
    dot = inner * 0.08
    d.ellipse((c - dot, c - dot, c + dot, c + dot), fill=pal[1])
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()
