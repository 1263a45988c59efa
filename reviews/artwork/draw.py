"""What the generated pictures share: named colours, a seeded choice, the bundled font and text
that fits its box.

Everything is derived from the text it is given (a film's title, year and director, a person's
name): the same text always gives the same picture, byte for byte, on the same Pillow.
"""

import functools
import hashlib
import io
import random
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont


@dataclass(frozen=True)
class Colour:
    name: str
    rgb: tuple[int, int, int]

    @property
    def luminance(self) -> float:
        """Relative luminance (WCAG), 0 for black to 1 for white."""

        def channel(c: int) -> float:
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in self.rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Colour, b: Colour) -> float:
    light, dark = sorted((a.luminance, b.luminance), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Named so that a caption can say what the picture shows ("a composition in teal and ochre").
PALETTE = [
    Colour(name, tuple(int(code[i : i + 2], 16) for i in (1, 3, 5)))
    for name, code in [
        ("ink", "#17171c"),
        ("charcoal", "#35383f"),
        ("slate", "#56636f"),
        ("bone", "#ece4d2"),
        ("paper white", "#f6f3ec"),
        ("sand", "#d7c2a0"),
        ("vermilion", "#e0442f"),
        ("crimson", "#9b1b30"),
        ("rust", "#b04a1c"),
        ("ochre", "#c8781e"),
        ("mustard", "#dcaa16"),
        ("lemon", "#f0d84a"),
        ("olive", "#6d7a32"),
        ("sage", "#98ad86"),
        ("forest green", "#24553a"),
        ("teal", "#1c7474"),
        ("turquoise", "#3bb3a8"),
        ("sky blue", "#7fb6dc"),
        ("cobalt", "#1f4aa8"),
        ("navy", "#1b2a4a"),
        ("indigo", "#3e3a8c"),
        ("violet", "#7a4fb0"),
        ("plum", "#65304f"),
        ("rose", "#d97a8e"),
        ("blush", "#efc4bd"),
        ("coral", "#f07a5a"),
    ]
]
INK, PAPER = PALETTE[0], PALETTE[4]

CREDIT = "Generated artwork, filmmag demo"


def seeded(*parts: object) -> random.Random:
    """A random generator seeded by ``parts`` (not by the clock): same parts, same choices."""
    text = "\x1f".join(str(part) for part in parts)
    return random.Random(hashlib.sha256(text.encode("utf-8")).digest())


def pick_colours(rng: random.Random, count: int) -> list[Colour]:
    """``count`` different colours: the first a background, the others readable on it."""
    background = rng.choice(PALETTE)
    others = [c for c in PALETTE if c != background and contrast(c, background) >= 1.6]
    return [background, *rng.sample(others, count - 1)]


def text_colour(background: Colour) -> Colour:
    return max((INK, PAPER), key=lambda c: contrast(c, background))


def names_of(colours: list[Colour]) -> str:
    """“teal, ochre and ink”."""
    names = list(dict.fromkeys(c.name for c in colours))
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- Text ----------------------------------------------------------------------------------------

# Letters Pillow's bundled font (Aileron) lacks, spelled with letters it has.
SPELLINGS = {
    "ß": "ss",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
    "Ø": "O",
    "ø": "o",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Þ": "Th",
    "þ": "th",
    "ı": "i",
    "—": "-",
    "–": "-",
    "‐": "-",
    "«": '"',
    "»": '"',
    "„": '"',
    "‚": "'",
}


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own font, so that no picture depends on the fonts a machine has installed."""
    return ImageFont.load_default(size=size)


def _rendered(char: str) -> bytes:
    image = Image.new("L", (48, 48))
    ImageDraw.Draw(image).text((8, 4), char, font=font(32), fill=255)
    return image.tobytes()


@functools.cache
def has_glyph(char: str) -> bool:
    if char.isspace() or char.isascii():
        return True
    return _rendered(char) != _rendered("\U0010fffd")  # the "missing glyph" box


def drawable(text: str) -> str:
    """``text`` with what the font cannot draw spelled without accents, replaced or left out:
    “Cléo” becomes “Cleo”, a title in Chinese characters becomes “”. Never boxes."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if not (char.isprintable() or char.isspace()):
            continue
        if has_glyph(char):
            out.append(char)
            continue
        spelled = SPELLINGS.get(char)
        if spelled is None:
            base = unicodedata.normalize("NFKD", char)
            spelled = "".join(c for c in base if not unicodedata.combining(c))
        out.append("".join(c for c in spelled if has_glyph(c) and c.isprintable()))
    return " ".join("".join(out).split())


def wrap(text: str, size: int, width: int) -> list[str]:
    """``text`` in lines no wider than ``width`` at ``size``; a word too long for a line is
    broken where it must be."""
    measure = font(size).getlength
    lines, line = [], ""
    for word in text.split():
        while measure(word) > width and len(word) > 1:
            cut = max((n for n in range(1, len(word)) if measure(word[:n]) <= width), default=1)
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}".strip()
        if measure(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def fit(text: str, *, width: int, height: int, largest: int, smallest: int, leading=1.05):
    """(size, lines): the largest size at which ``text`` fits the box. At the smallest size a
    text that still does not fit is cut short with an ellipsis."""
    size = largest
    while True:
        lines = wrap(text, size, width)
        if len(lines) * size * leading <= height or size <= smallest:
            break
        size = max(smallest, int(size * 0.9))
    room = max(1, int(height // (size * leading)))
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and font(size).getlength(f"{last}...") > width:
            last = last[:-1].rstrip()
        lines[-1] = f"{last}..."
    return size, lines


def draw_lines(draw, lines, *, size, x, y, fill, align="left", width=0, leading=1.05):
    """Draw ``lines`` from the top at (x, y); returns the y below the last line."""
    for line in lines:
        left = x
        if align != "left":
            extra = width - font(size).getlength(line)
            left = x + (extra if align == "right" else extra / 2)
        draw.text((left, y), line, font=font(size), fill=fill, anchor="la")
        y += size * leading
    return y


def initials(name: str) -> str:
    """“AH” for Alfred Hitchcock, “AV” for Agnès Varda, “JR” for JR; “?” when nothing of the
    name can be drawn."""
    words = [w for w in drawable(name).split() if w[0].isalnum()]
    if len(words) == 1 and len(words[0]) <= 3:
        return words[0].upper()
    letters = "".join(w[0] for w in (words[:1] + words[1:][-1:]))
    return letters.upper() or "?"


def png(image: Image.Image) -> bytes:
    """The image as PNG: no timestamp or other metadata, so the bytes follow the pixels."""
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def canvas(size: tuple[int, int], colour: Colour):
    image = Image.new("RGB", size, colour.rgb)
    return image, ImageDraw.Draw(image)
