import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import _json_script_escapes, format_html_join
from django.utils.safestring import mark_safe

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


@register.simple_tag
def facet_options(options):
    """<option>s for a facet <select>, built in Python: the director list runs to hundreds."""
    return format_html_join(
        "\n",
        '<option value="{}"{}>{} ({})</option>',
        (
            (o.value, mark_safe(" selected") if o.selected else "", o.label, o.count)
            for o in options
        ),
    )


@register.filter
def ld_json(data):
    """JSON for a <script type="application/ld+json"> block, escaped like json_script's."""
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_json_script_escapes))
