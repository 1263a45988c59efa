"""``{% picture %}`` and ``{% poster %}``: a picture's renditions as a responsive <picture>.

Everything comes from the renditions JSON on the row (films.pictures), so a page of 24 posters
costs no more queries than a page of one, and nothing is resized while the page renders.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def picture(
    pic,
    spec: str,
    *,
    sizes: str = "100vw",
    loading: str = "lazy",
    fetchpriority: str = "",
    alt: str | None = None,
    css_class: str = "",
    width: int | None = None,
    **attrs,
):
    """The picture in ``spec``'s shape, or nothing when there is none.

    ``width`` and ``height`` on the <img> are the largest rendition's (the browser needs only
    their ratio to keep the space, so nothing moves as it loads); CSS sets the shown size.
    ``loading="eager"`` with ``fetchpriority="high"`` for a page's lead image. ``class="x"``
    (or ``css_class``) goes on the <img>.
    """
    css_class = attrs.pop("class", css_class)
    if attrs:
        raise template.TemplateSyntaxError(f"picture: unknown arguments {sorted(attrs)}")
    if not pic or not pic.has(spec):
        return ""
    img_width, img_height = pic.size(spec)
    sources = format_html_join(
        "",
        '<source type="{}" srcset="{}" sizes="{}">',
        ((mime, srcset, sizes) for mime, srcset in pic.sources(spec)),
    )
    img = {
        "src": pic.url(spec, width or 640),
        "srcset": pic.srcset(spec, pic.fallback(spec)),
        "sizes": sizes,
        "width": img_width,
        "height": img_height,
        "alt": pic.alt if alt is None else alt,
        "decoding": "async",
    }
    if loading == "lazy":
        img["loading"] = "lazy"
    if fetchpriority:
        img["fetchpriority"] = fetchpriority
    if css_class:
        img["class"] = css_class
    img_attrs = format_html_join(" ", '{}="{}"', img.items())
    return format_html("<picture>{}<img {}></picture>", sources, img_attrs)


@register.simple_tag(takes_context=True)
def poster(
    context,
    film,
    *,
    sizes: str = "(min-width: 40rem) 12rem, 45vw",
    loading: str = "lazy",
    fetchpriority: str = "",
    alt: str | None = None,
    css_class: str = "poster",
    **attrs,
):
    """The film's 2:3 poster, or the designed placeholder with its title and year."""
    css_class = attrs.pop("class", css_class)
    if attrs:
        raise template.TemplateSyntaxError(f"poster: unknown arguments {sorted(attrs)}")
    pic = film.poster_picture
    if pic and pic.has("poster"):
        return picture(
            pic,
            "poster",
            sizes=sizes,
            loading=loading,
            fetchpriority=fetchpriority,
            alt=alt,
            css_class=css_class,
        )
    return render_to_string(
        "includes/poster_placeholder.html",
        {"film": film, "css_class": css_class, "decorative": alt == ""},
    )
