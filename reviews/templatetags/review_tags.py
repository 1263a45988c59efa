"""``{% review_picture review %}``: a review's lead picture in the shape it has."""

from django import template

from films.templatetags.pictures import picture

register = template.Library()


@register.simple_tag
def review_picture(review, *, sizes="100vw", loading="lazy", fetchpriority="", alt=None, **attrs):
    """The review's lead picture (its own image, the film's first still or its poster) as a
    responsive <picture>: a wide crop when there is one, else the poster, marked with the
    ``--poster`` modifier of the class so CSS can frame it. Nothing when there is no picture."""
    css_class = attrs.pop("class", "")
    if attrs:
        raise template.TemplateSyntaxError(f"review_picture: unknown arguments {sorted(attrs)}")
    pic = review.lead_picture
    if not pic:
        return ""
    spec = "still" if pic.has("still") else "poster"
    if spec == "poster" and css_class:
        css_class = f"{css_class} {css_class}--poster"
    return picture(
        pic,
        spec,
        sizes=sizes,
        loading=loading,
        fetchpriority=fetchpriority,
        alt=alt,
        css_class=css_class,
    )
