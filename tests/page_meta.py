"""A page's head as search engines and link previews read it: extruct for the JSON-LD and the
Open Graph tags, lxml for the rest."""

from dataclasses import dataclass

import extruct
import lxml.html


@dataclass
class Head:
    title: str
    description: str | None
    canonical: str | None
    robots: str | None
    og: dict[str, str]
    twitter_card: str | None
    json_ld: list[dict]


def read_head(response) -> Head:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    tree = lxml.html.fromstring(html)

    def one(xpath):
        found = tree.xpath(xpath)
        assert len(found) <= 1, f"{len(found)} × {xpath}"
        return found[0] if found else None

    data = extruct.extract(
        html, base_url="http://testserver/", syntaxes=["json-ld", "opengraph"], uniform=False
    )
    [og] = data["opengraph"] or [{"properties": []}]
    return Head(
        title=tree.findtext(".//title"),
        description=one('//meta[@name="description"]/@content'),
        canonical=one('//link[@rel="canonical"]/@href'),
        robots=one('//meta[@name="robots"]/@content'),
        og=dict(og["properties"]),
        twitter_card=one('//meta[@name="twitter:card"]/@content'),
        json_ld=data["json-ld"],
    )
