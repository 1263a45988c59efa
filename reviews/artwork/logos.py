"""Wordmarks for streaming services that have no logo: the name on a coloured band."""

from reviews.artwork.draw import (
    canvas,
    drawable,
    font,
    initials,
    pick_colours,
    png,
    seeded,
    text_colour,
)

HEIGHT = 256
PADDING = 64
MAX_WIDTH = 1024


def logo_png(name: str) -> bytes:
    rng = seeded("logo", name)
    background, _ = pick_colours(rng, 2)
    text = drawable(name) or initials(name)
    size = 150
    while font(size).getlength(text) > MAX_WIDTH - 2 * PADDING and size > 24:
        size -= 6
    width = max(HEIGHT, round(font(size).getlength(text)) + 2 * PADDING)
    image, draw = canvas((width, HEIGHT), background)
    fill = text_colour(background).rgb
    draw.text(
        (width / 2, HEIGHT / 2),
        text,
        font=font(size),
        fill=fill,
        anchor="mm",
        stroke_width=max(1, size // 40),
        stroke_fill=fill,
    )
    return png(image)
