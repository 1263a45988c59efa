"""Path converters. Imported by both apps' urls.py; registering happens once, on import."""

from django.urls import register_converter


class AnySlugConverter:
    """Slugs in any script: the policy makes ASCII slugs, but keywords once had Unicode ones
    ("céline-sciamma"), and those URLs must still reach the view to be redirected.
    Whitespace, punctuation and control characters never match, so they 404 at the resolver."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnySlugConverter, "anyslug")
