from django import template

register = template.Library()


@register.filter
def stars(rating):
    """★★★½☆ for a rating out of 5 in half steps; empty for no rating."""
    if rating is None or rating == "":
        return ""
    halves = max(0, min(10, round(float(rating) * 2)))
    full, half = divmod(halves, 2)
    return "★" * full + ("½" if half else "") + "☆" * (5 - full - half)


@register.filter
def paragraphs(text):
    """Split plain text into paragraphs at blank lines (or single newlines) for <p> rendering."""
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n") if p.strip()]


@register.filter
def iso(value):
    """A machine-readable time for <time datetime>, to the second (HTML allows no microseconds)."""
    return value.isoformat(timespec="seconds") if value else ""
