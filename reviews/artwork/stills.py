"""Still-like pictures: abstract 16:9 compositions in colours and shapes drawn from the film.

They stand in for frames of the film on its page and as the review's lead picture; each comes
with a description of what it shows (for its alt text and caption).
"""

import math
from dataclasses import dataclass

from PIL import Image

from reviews.artwork.draw import canvas, names_of, pick_colours, png, seeded

# Drawn on a 1920x1080 canvas (the compositions' coordinates), stored at 1280x720: a third of
# the first `make run`'s rendition time went into stills, and 1280 px fills the widest page.
CANVAS_WIDTH, CANVAS_HEIGHT = CANVAS = (1920, 1080)
WIDTH, HEIGHT = 1280, 720


@dataclass(frozen=True)
class GeneratedStill:
    png: bytes
    shapes: str  # what it shows: "overlapping circles"
    colours: str  # "teal, ochre and ink"


def _circles(draw, rng, colours):
    for _ in range(rng.randint(4, 7)):
        radius = rng.randint(120, 420)
        x, y = rng.randint(0, CANVAS_WIDTH), rng.randint(0, CANVAS_HEIGHT)
        colour = rng.choice(colours[1:])
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour.rgb)
    return "overlapping circles"


def _bands(draw, rng, colours):
    slope = rng.randint(-700, 700)
    top = -abs(slope)
    while top < CANVAS_HEIGHT + abs(slope):
        thickness = rng.randint(40, 160)
        colour = rng.choice(colours)
        draw.polygon(
            [
                (0, top),
                (CANVAS_WIDTH, top + slope),
                (CANVAS_WIDTH, top + slope + thickness),
                (0, top + thickness),
            ],
            fill=colour.rgb,
        )
        top += thickness + rng.randint(20, 120)
    return "diagonal bands"


def _blocks(draw, rng, colours):
    for _ in range(rng.randint(5, 9)):
        width, height = rng.randint(160, 760), rng.randint(120, 560)
        left, top = rng.randint(-100, CANVAS_WIDTH - 100), rng.randint(-100, CANVAS_HEIGHT - 100)
        draw.rectangle((left, top, left + width, top + height), fill=rng.choice(colours[1:]).rgb)
    return "stacked rectangles"


def _horizon(draw, rng, colours):
    background, sky, sun = colours
    line = rng.randint(520, 760)
    draw.rectangle((0, 0, CANVAS_WIDTH, line), fill=sky.rgb)
    radius = rng.randint(160, 320)
    x = rng.randint(300, CANVAS_WIDTH - 300)
    draw.pieslice((x - radius, line - radius, x + radius, line + radius), 180, 360, fill=sun.rgb)
    for n in range(1, 6):
        y = line + n * n * 14
        draw.line((0, y, CANVAS_WIDTH, y), fill=sun.rgb, width=max(2, 12 - 2 * n))
    return "a low sun over a horizon"


def _arcs(draw, rng, colours):
    cx, cy = rng.choice((0, CANVAS_WIDTH)), rng.choice((0, CANVAS_HEIGHT))
    step = rng.randint(70, 140)
    for n, radius in enumerate(range(2200, step, -step)):
        colour = colours[n % len(colours)]
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour.rgb)
    return "concentric arcs"


def _bars(draw, rng, colours):
    left = 0
    while left < CANVAS_WIDTH:
        width = rng.randint(30, 260)
        height = rng.randint(CANVAS_HEIGHT // 3, CANVAS_HEIGHT)
        top = rng.choice((0, CANVAS_HEIGHT - height))
        draw.rectangle((left, top, left + width, top + height), fill=rng.choice(colours).rgb)
        left += width
    return "vertical bars"


def _waves(draw, rng, colours):
    amplitude = rng.randint(40, 120)
    length = rng.randint(400, 900)
    # From the top down: each wave covers the lower part of the one before.
    for n, base in enumerate(
        range(rng.randint(60, 200), CANVAS_HEIGHT + 120, rng.randint(110, 180))
    ):
        phase = rng.random() * math.tau
        points = [
            (x, base + amplitude * math.sin(phase + x / length * math.tau))
            for x in range(0, CANVAS_WIDTH + 40, 40)
        ]
        draw.polygon(
            [(0, CANVAS_HEIGHT), *points, (CANVAS_WIDTH, CANVAS_HEIGHT)],
            fill=colours[(n + 1) % 3].rgb,
        )
    return "layered waves"


COMPOSITIONS = (_circles, _bands, _blocks, _horizon, _arcs, _bars, _waves)


def still_pngs(title: str, year: int | None, count: int = 3) -> list[GeneratedStill]:
    """``count`` different compositions for the film."""
    rng = seeded("stills", title, year)
    stills = []
    for compose in rng.sample(COMPOSITIONS, min(count, len(COMPOSITIONS))):
        colours = pick_colours(rng, 3)
        image, draw = canvas(CANVAS, colours[0])
        shapes = compose(draw, rng, colours)
        image = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        stills.append(GeneratedStill(png(image), shapes, names_of(colours)))
    return stills
