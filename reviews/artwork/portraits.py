"""Monogram cards in place of portraits: a person's initials, 4:5 at 768 × 960."""

from reviews.artwork.draw import canvas, font, initials, pick_colours, png, seeded, text_colour

WIDTH, HEIGHT = 768, 960


def portrait_png(name: str) -> bytes:
    rng = seeded("portrait", name)
    background, disc, _ = pick_colours(rng, 3)
    image, draw = canvas((WIDTH, HEIGHT), background)
    radius = 280
    cx, cy = WIDTH // 2, HEIGHT // 2  # the name is printed under the card on the page
    if rng.random() < 0.5:
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=disc.rgb)
    else:
        draw.rectangle((cx - radius, cy - radius, cx + radius, cy + radius), fill=disc.rgb)
    letters = initials(name)
    size = 300
    while font(size).getlength(letters) > 2 * radius - 80 and size > 40:
        size -= 10
    draw.text((cx, cy), letters, font=font(size), fill=text_colour(disc).rgb, anchor="mm")
    return png(image)
