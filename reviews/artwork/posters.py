"""Typographic posters: the film's title, year and director on shapes and colours chosen from
them, in one of several layouts, 2:3 at 960 × 1440 (the poster spec's largest width)."""

from reviews.artwork.draw import (
    Colour,
    canvas,
    draw_lines,
    drawable,
    fit,
    font,
    pick_colours,
    png,
    seeded,
    text_colour,
)

WIDTH, HEIGHT = 960, 1440
MARGIN = 72


class _Poster:
    def __init__(self, title: str, year: int | None, director: str):
        self.rng = seeded("poster", title, year, director)
        self.title = drawable(title) or drawable(str(year or ""))
        self.year = str(year) if year else ""
        director = drawable(director)
        self.byline = f"A film by {director}" if director else ""
        self.colours = pick_colours(self.rng, 3)
        self.image, self.draw = canvas((WIDTH, HEIGHT), self.colours[0])

    def text_block(self, box, *, on: Colour, largest=150, align="left", byline=True):
        """Title, then the byline, inside ``box`` (left, top, right, bottom), in the colour
        that reads best on ``on``."""
        left, top, right, bottom = box
        fill = text_colour(on).rgb
        byline_room = 70 if byline and self.byline else 0
        size, lines = fit(
            self.title,
            width=right - left,
            height=bottom - top - byline_room,
            largest=largest,
            smallest=34,
        )
        y = draw_lines(
            self.draw, lines, size=size, x=left, y=top, fill=fill, align=align, width=right - left
        )
        if byline_room:
            byline_size, byline_lines = fit(
                self.byline, width=right - left, height=46, largest=40, smallest=22
            )
            draw_lines(
                self.draw,
                byline_lines,
                size=byline_size,
                x=left,
                y=y + 18,
                fill=fill,
                align=align,
                width=right - left,
            )

    def year_mark(self, xy, *, on: Colour, size=48, anchor="la"):
        if self.year:
            self.draw.text(xy, self.year, font=font(size), fill=text_colour(on).rgb, anchor=anchor)

    # Layouts -----------------------------------------------------------------------------------

    def suns(self):
        background, first, second = self.colours
        x = self.rng.randint(300, 660)
        radius = self.rng.randint(260, 360)
        self.draw.ellipse((x - radius, 420 - radius, x + radius, 420 + radius), fill=first.rgb)
        r2 = radius // 2
        x2 = x + self.rng.choice((-1, 1)) * radius * 0.8
        self.draw.ellipse((x2 - r2, 560 - r2, x2 + r2, 560 + r2), fill=second.rgb)
        self.year_mark((MARGIN, MARGIN), on=background)
        self.text_block((MARGIN, 900, WIDTH - MARGIN, HEIGHT - MARGIN), on=background)

    def bands(self):
        background, first, second = self.colours
        count = self.rng.randint(3, 5)
        slope = self.rng.randint(-300, 300)
        step = 130
        start = 580 + max(0, -slope)
        for n in range(count):
            top = start + n * step
            colour = (first, second)[n % 2]
            self.draw.polygon(
                [(0, top), (WIDTH, top + slope), (WIDTH, top + slope + 70), (0, top + 70)],
                fill=colour.rgb,
            )
        self.text_block((MARGIN, MARGIN, WIDTH - MARGIN, 520), on=background, largest=140)
        self.draw.rectangle((0, HEIGHT - 150, WIDTH, HEIGHT), fill=background.rgb)
        self.year_mark((WIDTH - MARGIN, HEIGHT - MARGIN), on=background, anchor="rd", size=64)

    def grid(self):
        background, first, second = self.colours
        columns, rows = 3, 4
        cell_w, cell_h = (WIDTH - 2 * MARGIN) // columns, 720 // rows
        for row in range(rows):
            for column in range(columns):
                colour = self.rng.choice((background, first, first, second))
                left = MARGIN + column * cell_w
                top = MARGIN + row * cell_h
                shape = self.rng.choice(("square", "circle", "half"))
                box = (left + 8, top + 8, left + cell_w - 8, top + cell_h - 8)
                if shape == "square":
                    self.draw.rectangle(box, fill=colour.rgb)
                elif shape == "circle":
                    self.draw.ellipse(box, fill=colour.rgb)
                else:
                    self.draw.pieslice(box, 180, 360, fill=colour.rgb)
        self.draw.line(
            (MARGIN, 830, WIDTH - MARGIN, 830), fill=text_colour(background).rgb, width=4
        )
        self.year_mark((WIDTH - MARGIN, 850), on=background, anchor="ra", size=44)
        self.text_block((MARGIN, 930, WIDTH - MARGIN, HEIGHT - MARGIN), on=background)

    def horizon(self):
        background, first, second = self.colours
        line = self.rng.randint(700, 860)
        self.draw.rectangle((0, 0, WIDTH, line), fill=first.rgb)
        radius = self.rng.randint(180, 300)
        x = self.rng.randint(240, 720)
        self.draw.pieslice(
            (x - radius, line - radius, x + radius, line + radius), 180, 360, fill=second.rgb
        )
        for n in range(1, 4):
            y = line + n * 18
            self.draw.line((0, y, WIDTH, y), fill=second.rgb, width=max(1, 8 - 2 * n))
        self.year_mark((MARGIN, MARGIN), on=first, size=56)
        self.text_block(
            (MARGIN, line + 110, WIDTH - MARGIN, HEIGHT - MARGIN), on=background, largest=130
        )

    def numerals(self):
        background, first, second = self.colours
        if self.year:
            size = 330
            while font(size).getlength(self.year) > WIDTH - 2 * MARGIN and size > 40:
                size -= 10
            self.draw.text(
                (WIDTH / 2, 120), self.year, font=font(size), fill=first.rgb, anchor="ma"
            )
        self.draw.rectangle((MARGIN, 560, WIDTH - MARGIN, 576), fill=second.rgb)
        self.text_block(
            (MARGIN, 640, WIDTH - MARGIN, HEIGHT - MARGIN), on=background, align="center"
        )

    def rings(self):
        background, first, second = self.colours
        cx = self.rng.choice((0, WIDTH))
        cy = self.rng.randint(0, 500)
        for n, radius in enumerate(range(1100, 80, -110)):
            colour = (first, second, background)[n % 3]
            self.draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour.rgb)
        self.draw.rectangle((0, 920, WIDTH, HEIGHT), fill=background.rgb)
        self.year_mark((MARGIN, 950), on=background, size=44)
        self.text_block((MARGIN, 1030, WIDTH - MARGIN, HEIGHT - MARGIN), on=background, largest=120)


LAYOUTS = ("suns", "bands", "grid", "horizon", "numerals", "rings")


def poster_png(title: str, year: int | None, director: str = "") -> bytes:
    """A poster for the film, as PNG bytes; ``director`` may be empty."""
    poster = _Poster(title, year, director)
    layout = poster.rng.choice(LAYOUTS)
    getattr(poster, layout)()
    return png(poster.image)
