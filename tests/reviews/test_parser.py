"""Tests for reviews.parser: the house-format review document parser (no Django needed)."""

import contextlib
import datetime
import io
import os
import threading
from pathlib import Path

import pytest

from reviews.parser import (
    MAX_DOCUMENT_BYTES,
    MAX_KEYWORD_LENGTH,
    MAX_KEYWORDS,
    DocumentError,
    ParsedDocument,
    ParsedOffer,
    SuggestedCredit,
    parse_document,
    read_document,
)

DOCUMENTS = Path(__file__).parent / "documents"
FIXTURE_BYTES = (DOCUMENTS / "the-cranes-are-flying.txt").read_bytes()
FIXTURE = FIXTURE_BYTES.decode("utf-8")
LINES = FIXTURE.splitlines()

# The fixture's layout: one paragraph per line, headings on lines of their own.
assert LINES[6] == "Synopsis" and LINES[8] == "Review"
assert LINES[15] == "Criticisms" and LINES[17] == "Conclusion"
SYNOPSIS = LINES[7:8]
REVIEW = LINES[9:15]
CRITICISMS = LINES[16:17]
CONCLUSION = LINES[18:20]
KEYWORD_LINE = LINES[20]

CRANES_OFFERS = [
    ParsedOffer("Criterion Channel", "subscription"),
    ParsedOffer("Amazon Prime Video", "rent"),
    ParsedOffer("Amazon Prime Video", "buy"),
    ParsedOffer("iTunes", "rent"),
    ParsedOffer("iTunes", "buy"),
    ParsedOffer("Google Play", "rent"),
    ParsedOffer("Google Play", "buy"),
]
CRANES_KEYWORDS = [
    "The Cranes Are Flying 1957 movie review",
    "The Cranes Are Flying streaming",
    "The Cranes Are Flying Criterion Channel",
    "Soviet war dramas",
    "Mikhail Kalatozov films",
    "Tatiana Samoilova",
    "Aleksey Batalov",
    "classic international cinema",
    "films about World War II",
    "emotional war dramas",
]


def edit(old: str, new: str, text: str = FIXTURE) -> str:
    """Replace one piece of the fixture, failing loudly if the piece is not there."""
    assert old in text, old
    return text.replace(old, new)


def header(name: str) -> str:
    return next(line for line in LINES if line.startswith(f"{name}:"))


def with_line(name: str, value: str, text: str = FIXTURE) -> str:
    return edit(header(name), f"{name}: {value}", text)


def document(body: str, *, title_line: str = "Nights of Cabiria (1957) – Hope in the Dark") -> str:
    """A small complete document around a test paragraph placed in the Review section."""
    return "\n".join(
        [
            title_line,
            "Title: Nights of Cabiria",
            "Director: Federico Fellini",
            "Release Date: October 9, 1957",
            "Genre: Drama",
            "Streaming Services: Streaming on Max.",
            "Synopsis",
            "A woman keeps hoping.",
            "Review",
            body,
            "Criticisms",
            "Some find it sentimental.",
            "Conclusion",
            "See it.",
            "Italian cinema, Federico Fellini films, neorealism",
        ]
    )


def offers_for(sentence: str) -> list[tuple[str, str]]:
    parsed = parse_document(with_line("Streaming Services", sentence))
    return [(offer.service, offer.offer_type) for offer in parsed.offers]


def credits_for(body: str, **kwargs) -> list[SuggestedCredit]:
    return parse_document(document(body, **kwargs)).suggested_credits


def people(credits: list[SuggestedCredit]) -> set[tuple[str, str, str]]:
    return {(credit.person, credit.role, credit.character) for credit in credits}


@pytest.fixture(scope="module")
def cranes() -> ParsedDocument:
    return parse_document(FIXTURE_BYTES, filename="the-cranes-are-flying.txt")


# --- The real example, end to end ---------------------------------------------------------


def test_fixture_title_year_subtitle_and_headline(cranes):
    assert cranes.title == "The Cranes Are Flying"
    assert cranes.year == 1957
    assert cranes.subtitle == "A Soviet Cinematic Masterpiece"
    assert cranes.headline == "A Soviet Cinematic Masterpiece"


def test_fixture_director_release_date_and_genres(cranes):
    assert cranes.directors == ["Mikhail Kalatozov"]
    assert cranes.release_date == datetime.date(1957, 10, 12)
    assert cranes.genres == ["Drama", "War", "Romance"]


def test_fixture_streaming_sentence_becomes_seven_offers_in_document_order(cranes):
    assert cranes.streaming_text == (
        "Available on Criterion Channel and for rent or purchase on "
        "Amazon Prime Video, iTunes, and Google Play."
    )
    assert cranes.offers == CRANES_OFFERS
    assert cranes.not_streaming is False


def test_fixture_sections_are_the_paragraphs_exactly_as_written(cranes):
    assert cranes.synopsis == "\n\n".join(SYNOPSIS)
    assert cranes.critique == "\n\n".join(REVIEW)
    assert cranes.criticisms == "\n\n".join(CRITICISMS)
    assert cranes.conclusion == "\n\n".join(CONCLUSION)
    assert cranes.synopsis.startswith("“The Cranes Are Flying” is a Soviet war drama")
    assert "Kalatozov’s direction" in cranes.critique


def test_fixture_paragraph_counts(cranes):
    counts = [
        len(text.split("\n\n"))
        for text in (cranes.synopsis, cranes.critique, cranes.criticisms, cranes.conclusion)
    ]
    assert counts == [1, 6, 1, 2]


def test_fixture_keyword_line_becomes_ten_keywords_and_is_not_in_the_conclusion(cranes):
    assert cranes.keywords == CRANES_KEYWORDS
    assert "emotional war dramas" not in cranes.conclusion
    assert cranes.conclusion.endswith("iTunes, and Google Play.")


def test_fixture_suggests_the_cast_cinematographer_and_composer(cranes):
    found = people(cranes.suggested_credits)
    assert ("Tatiana Samoilova", "actor", "Veronika") in found
    assert ("Aleksey Batalov", "actor", "Boris") in found
    assert ("Sergei Urusevsky", "cinematographer", "") in found
    assert ("Dmitri Shostakovich", "composer", "") in found


def test_fixture_suggests_nothing_silly(cranes):
    names = {credit.person for credit in cranes.suggested_credits}
    assert names == {
        "Tatiana Samoilova",
        "Aleksey Batalov",
        "Sergei Urusevsky",
        "Dmitri Shostakovich",
    }
    # One row per person and role, even though Urusevsky is named twice.
    assert len(cranes.suggested_credits) == 4


def test_fixture_credits_carry_the_phrase_that_suggested_them(cranes):
    evidence = {credit.person: credit.evidence for credit in cranes.suggested_credits}
    assert evidence["Tatiana Samoilova"] == "Veronika (Tatiana Samoilova)"
    assert evidence["Sergei Urusevsky"] == "Sergei Urusevsky’s innovative cinematography"
    assert evidence["Dmitri Shostakovich"] == "Dmitri Shostakovich’s musical score"


def test_fixture_parses_without_warnings(cranes):
    assert cranes.warnings == []


def test_text_and_bytes_give_the_same_result(cranes):
    assert parse_document(FIXTURE) == cranes


# --- Writers are not machines: the same document, written differently ---------------------


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(FIXTURE.replace("\n", "\r\n"), id="windows-line-endings"),
        pytest.param(FIXTURE.replace("\n", "\r"), id="old-mac-line-endings"),
        pytest.param("\ufeff" + FIXTURE, id="bom-in-text"),
        pytest.param("\n\n" + FIXTURE.replace("\n", "\n\n\n") + "\n\n  \n", id="blank-lines"),
        pytest.param(FIXTURE.replace("\n", "  \n\t"), id="stray-indentation"),
        pytest.param(FIXTURE.replace("\n", "\u00a0\n\u00a0"), id="non-breaking-spaces"),
        pytest.param(
            edit("Release Date:", "  RELEASE\u00a0 date :", edit("Genre:", "genre  :")),
            id="header-keys-in-other-case-with-spaces",
        ),
        pytest.param(edit("Genre:", "Genres:"), id="genres-plural"),
        pytest.param(
            edit("\nSynopsis\n", "\nsynopsis:\n", edit("\nReview\n", "\nREVIEW\n")),
            id="headings-lowercase-uppercase-colon",
        ),
        pytest.param(
            edit("\nReview\n", "\n## Review\n", edit("\nCriticisms\n", "\n**Criticisms**\n")),
            id="markdown-headings",
        ),
        pytest.param(edit("\nConclusion\n", "\n### Conclusion:\n"), id="markdown-heading-colon"),
        pytest.param(edit("\nCriticisms\n", "\nCriticism\n"), id="criticism-singular"),
        pytest.param(
            edit("Director:", "**Director:**", edit("Title:", "**Title**:")),
            id="markdown-bold-header-keys",
        ),
        pytest.param(edit(KEYWORD_LINE, "Keywords: " + KEYWORD_LINE), id="keywords-prefix"),
        pytest.param(edit(KEYWORD_LINE, KEYWORD_LINE.rstrip(".")), id="keywords-no-period"),
        pytest.param(edit(KEYWORD_LINE, "Tags: " + KEYWORD_LINE), id="tags-prefix"),
        pytest.param(edit(KEYWORD_LINE, "Keywords\n" + KEYWORD_LINE), id="keywords-heading"),
        pytest.param(edit(" – A Soviet", " — A Soviet"), id="em-dash-in-first-line"),
        pytest.param(edit(" – A Soviet", " - A Soviet"), id="hyphen-in-first-line"),
        pytest.param(edit(" – A Soviet", ": A Soviet"), id="colon-in-first-line"),
        pytest.param(edit("Release Date: October 12, 1957", "Release Date: 12 October 1957")),
        pytest.param(edit("Release Date: October 12, 1957", "Release Date: 1957-10-12")),
        pytest.param(edit("Release Date: October 12, 1957", "Release Date: Oct. 12th, 1957")),
        pytest.param(edit("Release Date: October 12, 1957", "Released: October 12 1957")),
        pytest.param(edit("Genre: Drama, War, Romance", "Genre: drama, war, romance.")),
        pytest.param(edit("Genre: Drama, War, Romance", "Genre: Drama, War, Romance, drama")),
    ],
)
def test_irregular_writing_gives_the_same_result_as_the_clean_fixture(variant, cranes):
    assert parse_document(variant) == cranes


def test_the_before_a_service_name_is_dropped(cranes):
    parsed = parse_document(edit("on Criterion Channel", "on the Criterion Channel"))
    assert parsed.streaming_text.startswith("Available on the Criterion Channel and")
    assert parsed.offers == CRANES_OFFERS


def test_bom_in_bytes_is_tolerated(cranes):
    assert parse_document(b"\xef\xbb\xbf" + FIXTURE_BYTES) == cranes


def test_crlf_bytes_with_bom_and_blank_lines(cranes):
    data = b"\xef\xbb\xbf" + FIXTURE.replace("\n", "\r\n\r\n").encode("utf-8")
    assert parse_document(data) == cranes


def test_paragraph_keeps_internal_spacing_and_curly_quotes_but_loses_outer_whitespace():
    paragraph = "  “Cabiria”\u00a0is  a film’s film.\u00a0 "
    parsed = parse_document(document(paragraph))
    assert parsed.critique == "“Cabiria”\u00a0is  a film’s film."


def test_blank_lines_between_paragraphs_do_not_add_paragraphs():
    parsed = parse_document(document("First paragraph.\n\n\n\nSecond paragraph."))
    assert parsed.critique == "First paragraph.\n\nSecond paragraph."


def test_heading_with_text_on_the_same_line():
    text = edit("\nSynopsis\n", "\nSynopsis: ", FIXTURE)
    parsed = parse_document(text)
    assert parsed.synopsis == SYNOPSIS[0]
    assert parsed.warnings == []


@pytest.mark.parametrize("heading", ["Criticisms", "Conclusion", "Synopsis", "Review"])
def test_missing_section_is_only_a_warning(heading):
    sections = {"Synopsis": SYNOPSIS, "Review": REVIEW, "Criticisms": CRITICISMS}
    lines = list(LINES)
    if heading == "Conclusion":
        # Drop the heading and its text; the keyword line then follows the criticisms.
        del lines[17:20]
    else:
        start = lines.index(heading)
        del lines[start : start + 1 + len(sections[heading])]
    parsed = parse_document("\n".join(lines))
    assert f"No {heading} section." in parsed.warnings
    assert parsed.keywords == CRANES_KEYWORDS
    field = {"Review": "critique"}.get(heading, heading.lower())
    assert getattr(parsed, field) == ""
    assert parsed.title == "The Cranes Are Flying"


def test_missing_criticisms_keeps_the_other_sections_intact():
    parsed = parse_document(edit("Criticisms\n" + CRITICISMS[0] + "\n", ""))
    assert parsed.criticisms == ""
    assert parsed.critique == "\n\n".join(REVIEW)
    assert parsed.conclusion == "\n\n".join(CONCLUSION)
    assert parsed.warnings == ["No Criticisms section."]


def test_empty_section_is_a_warning():
    parsed = parse_document(edit("Criticisms\n" + CRITICISMS[0] + "\n", "Criticisms\n"))
    assert parsed.criticisms == ""
    assert "The Criticisms section is empty." in parsed.warnings


def test_repeated_heading_joins_the_texts_and_warns():
    parsed = parse_document(edit("\nCriticisms\n", "\nReview\nAn afterthought.\nCriticisms\n"))
    assert parsed.critique == "\n\n".join([*REVIEW, "An afterthought."])
    assert any("Review heading appears twice" in warning for warning in parsed.warnings)


# --- Title line and headers --------------------------------------------------------------


def test_title_header_alone_without_a_first_line():
    parsed = parse_document("\n".join(LINES[1:]))
    assert parsed.title == "The Cranes Are Flying"
    assert parsed.subtitle == ""
    assert parsed.headline == "The Cranes Are Flying"
    assert parsed.year == 1957  # from the release date
    assert parsed.warnings == []


def test_first_line_alone_without_a_title_header():
    parsed = parse_document(edit("Title: The Cranes Are Flying\n", ""))
    assert parsed.title == "The Cranes Are Flying"
    assert parsed.subtitle == "A Soviet Cinematic Masterpiece"
    assert "No Title header; the title was taken from the first line." in parsed.warnings


def test_first_line_without_a_subtitle():
    parsed = parse_document(edit(LINES[0], "The Cranes Are Flying (1957)"))
    assert parsed.subtitle == ""
    assert parsed.headline == "The Cranes Are Flying"
    assert parsed.year == 1957


def test_first_line_without_a_year_takes_the_year_from_the_release_date():
    parsed = parse_document(
        edit(LINES[0], "The Cranes Are Flying – A Soviet Cinematic Masterpiece")
    )
    assert parsed.title == "The Cranes Are Flying"
    assert parsed.subtitle == "A Soviet Cinematic Masterpiece"
    assert parsed.year == 1957


def test_title_with_a_colon_of_its_own_is_kept_whole_when_the_header_names_it():
    text = with_line("Title", "Star Wars: A New Hope", edit(LINES[0], "Star Wars: A New Hope"))
    parsed = parse_document(text)
    assert parsed.title == "Star Wars: A New Hope"
    assert parsed.subtitle == ""


def test_title_header_that_differs_from_the_first_line_wins_with_a_warning():
    parsed = parse_document(with_line("Title", "Letyat Zhuravli"))
    assert parsed.title == "Letyat Zhuravli"
    assert (
        "Title header “Letyat Zhuravli” differs from the first line “The Cranes Are Flying”."
        in parsed.warnings
    )


def test_title_header_in_curly_quotes_with_year():
    parsed = parse_document(with_line("Title", "“The Cranes Are Flying” (1957)"))
    assert parsed.title == "The Cranes Are Flying"
    assert parsed.warnings == []


def test_unknown_header_is_kept_as_a_warning():
    parsed = parse_document(edit("Genre:", "Rating: 4\nGenre:"))
    assert "Unknown header “Rating: 4” ignored." in parsed.warnings
    assert parsed.genres == ["Drama", "War", "Romance"]


def test_stray_line_before_the_first_section_is_a_warning():
    parsed = parse_document(edit("\nSynopsis\n", "\nby our Moscow correspondent\nSynopsis\n"))
    assert parsed.warnings == [
        "Unexpected line “by our Moscow correspondent” before the first section ignored."
    ]


def test_duplicate_header_keeps_the_first_and_warns():
    parsed = parse_document(edit("Genre:", "Director: Someone Else\nGenre:"))
    assert parsed.directors == ["Mikhail Kalatozov"]
    assert "Duplicate Director header “Director: Someone Else” ignored." in parsed.warnings


@pytest.mark.parametrize(
    ("missing", "warning"),
    [
        ("Director", "No Director header."),
        ("Release Date", "No Release Date header."),
        ("Genre", "No Genre header."),
        ("Streaming Services", "No Streaming Services header."),
    ],
)
def test_missing_header_is_a_warning(missing, warning):
    parsed = parse_document(edit(header(missing) + "\n", ""))
    assert warning in parsed.warnings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Michael Powell and Emeric Pressburger", ["Michael Powell", "Emeric Pressburger"]),
        ("Joel Coen & Ethan Coen", ["Joel Coen", "Ethan Coen"]),
        ("Joel Coen, Ethan Coen", ["Joel Coen", "Ethan Coen"]),
        ("Joel Coen; Ethan Coen", ["Joel Coen", "Ethan Coen"]),
        ("Jean-Luc Godard, Anne-Marie Miéville and Jean-Pierre Gorin",
         ["Jean-Luc Godard", "Anne-Marie Miéville", "Jean-Pierre Gorin"]),
        ("Fernando Meirelles and Kátia Lund", ["Fernando Meirelles", "Kátia Lund"]),
        ("Wes Anderson", ["Wes Anderson"]),
        ("Brandon Andrews", ["Brandon Andrews"]),
        ("Михаил Калатозов", ["Михаил Калатозов"]),
        ("Joel Coen and Joel Coen", ["Joel Coen"]),
        ("Martin Luther King, Jr.", ["Martin Luther King, Jr."]),
    ],
)  # fmt: skip
def test_directors_are_split_but_single_names_are_not(value, expected):
    assert parse_document(with_line("Director", value)).directors == expected


def test_directors_header_plural():
    parsed = parse_document(edit("Director: Mikhail Kalatozov", "Directors: A. Alov & V. Naumov"))
    assert parsed.directors == ["A. Alov", "V. Naumov"]


def test_genres_are_title_cased_and_de_duplicated():
    value = "Genres: science fiction, film-noir, LGBTQ, Sci-Fi, drama"
    parsed = parse_document(edit("Genre: Drama, War, Romance", value))
    assert parsed.genres == ["Science Fiction", "Film-Noir", "LGBTQ", "Sci-Fi", "Drama"]


# --- Release dates --------------------------------------------------------------------------


def test_year_only_release_date():
    parsed = parse_document(with_line("Release Date", "1957"))
    assert parsed.release_date is None
    assert parsed.year == 1957
    assert parsed.warnings == ["Release date “1957” is a year only."]


def test_year_only_release_date_and_no_year_in_the_first_line():
    text = with_line("Release Date", "1957", edit(" (1957)", ""))
    parsed = parse_document(text)
    assert parsed.year == 1957
    assert parsed.release_date is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("October 12, 1957", datetime.date(1957, 10, 12)),
        ("12 October 1957", datetime.date(1957, 10, 12)),
        ("1957-10-12", datetime.date(1957, 10, 12)),
        ("Oct 12, 1957", datetime.date(1957, 10, 12)),
        ("Sept. 3rd, 1957", datetime.date(1957, 9, 3)),
        ("12 october 1957.", datetime.date(1957, 10, 12)),
        ("October 12, 1957 (Soviet Union)", datetime.date(1957, 10, 12)),
        ("25/10/1957", datetime.date(1957, 10, 25)),
        ("10/25/1957", datetime.date(1957, 10, 25)),
    ],
)
def test_release_date_formats(value, expected):
    parsed = parse_document(with_line("Release Date", value))
    assert parsed.release_date == expected
    assert parsed.warnings == []


@pytest.mark.parametrize(
    ("value", "warning"),
    [
        ("Octember 3", "Could not read the release date “Octember 3”."),
        ("Octember 3, 1957", "Could not read the release date “Octember 3, 1957”."),
        ("February 30, 1957", "Could not read the release date “February 30, 1957”."),
        ("sometime in the fifties", "Could not read the release date “sometime in the fifties”."),
        ("12/25/1850", "Could not read the release date “12/25/1850”."),
        ("25.12.2150", "Could not read the release date “25.12.2150”."),
        ("10/12/1850", "Could not read the release date “10/12/1850”."),
        ("October 1957", "Release date “October 1957” has no day; only the year was used."),
    ],
)
def test_unreadable_or_partial_release_date_is_a_warning(value, warning):
    parsed = parse_document(with_line("Release Date", value))
    assert parsed.release_date is None
    assert parsed.year == 1957  # still known from the first line
    assert warning in parsed.warnings


def test_ambiguous_numeric_release_date_uses_only_the_year():
    parsed = parse_document(with_line("Release Date", "10/12/1957"))
    assert parsed.release_date is None
    assert parsed.year == 1957
    assert any("ambiguous" in warning for warning in parsed.warnings)


def test_release_year_that_contradicts_the_first_line_is_a_warning():
    parsed = parse_document(with_line("Release Date", "May 12, 1958"))
    assert parsed.year == 1957
    assert parsed.release_date == datetime.date(1958, 5, 12)
    assert "The first line gives the year 1957 but the release date is in 1958." in parsed.warnings


# --- Keywords -------------------------------------------------------------------------------


def test_keywords_are_trimmed_de_duplicated_and_empties_dropped():
    line = " Soviet cinema ,  , soviet Cinema, Kalatozov films,, war dramas ,."
    parsed = parse_document(edit(KEYWORD_LINE, line))
    assert parsed.keywords == ["Soviet cinema", "Kalatozov films", "war dramas"]


def test_keyword_line_after_blank_lines_at_the_end():
    parsed = parse_document(FIXTURE + "\n\n\n")
    assert parsed.keywords == CRANES_KEYWORDS
    assert parsed.conclusion == "\n\n".join(CONCLUSION)


@pytest.mark.parametrize(
    "last_paragraph",
    [
        "It is bold, brave, and beautiful, and you should see it.",
        "We laughed, we cried, we left changed.",
        "Bleak, yes, but tender, hopeful and unforgettable: a must-see!",
        "See it for the camera, the score, the faces. Then see it again.",
        "Urusevsky’s camera swoops, soars, dives, and never lets go.",
    ],
)
def test_closing_sentence_with_commas_is_not_mistaken_for_keywords(last_paragraph):
    parsed = parse_document(edit("\n" + KEYWORD_LINE, "\n" + last_paragraph))
    assert parsed.keywords == []
    assert parsed.conclusion == "\n\n".join([*CONCLUSION, last_paragraph])
    assert "No keyword line found at the end of the document." in parsed.warnings


def test_keyword_line_is_only_looked_for_at_the_end():
    keywords_first = [*LINES[:18], KEYWORD_LINE, *CONCLUSION]
    parsed = parse_document("\n".join(keywords_first))
    assert parsed.keywords == []
    assert parsed.conclusion.startswith(KEYWORD_LINE)


def test_keyword_line_after_a_repeated_heading_is_still_found():
    text = edit("\n" + KEYWORD_LINE, "\nReview\nA late thought.\n" + KEYWORD_LINE)
    parsed = parse_document(text)
    assert parsed.keywords == CRANES_KEYWORDS
    assert parsed.critique.endswith("\n\nA late thought.")


def test_labelled_keyword_line_inside_the_conclusion_does_not_swallow_what_follows():
    text = edit("\n" + KEYWORD_LINE, "", edit(CONCLUSION[1], "Keywords: a, b\n" + CONCLUSION[1]))
    parsed = parse_document(text)
    assert parsed.keywords == ["a", "b"]
    assert parsed.conclusion == "\n\n".join(CONCLUSION)


def test_keywords_line_with_prefix_anywhere_in_the_sections_is_taken_out():
    moved = edit("\n" + KEYWORD_LINE, "", edit("\nCriticisms\n", "\nKeywords: a, b\nCriticisms\n"))
    parsed = parse_document(moved)
    assert parsed.keywords == ["a", "b"]
    assert parsed.critique == "\n\n".join(REVIEW)


# --- Keyword line rules: reported as such, never kept as Conclusion text ---------------------


def refusal(text: str, filename: str = "keywords.txt") -> str:
    with pytest.raises(DocumentError) as info:
        parse_document(text, filename=filename)
    return str(info.value)


def test_a_keyword_line_of_10000_keywords_is_refused_for_its_length():
    line = ", ".join(f"keyword {i}" for i in range(10_000))

    assert refusal(edit(KEYWORD_LINE, line)) == (
        "“keywords.txt” has 10,000 keywords; a review may have at most 50. Keep the ones that "
        "matter most and import it again."
    )


def test_a_labelled_keyword_line_of_10000_keywords_is_refused_too():
    line = "Keywords: " + ", ".join(f"k{i}" for i in range(10_000))

    assert "has 10,000 keywords" in refusal(edit(KEYWORD_LINE, line))


def test_fifty_keywords_are_accepted_and_fifty_one_refused():
    fifty = [f"keyword {i}" for i in range(MAX_KEYWORDS)]

    assert parse_document(edit(KEYWORD_LINE, ", ".join(fifty))).keywords == fifty
    assert "has 51 keywords" in refusal(edit(KEYWORD_LINE, ", ".join([*fifty, "one more"])))


def test_repeated_keywords_count_once():
    line = ", ".join(["Soviet cinema", "war dramas", "Kalatozov films"] * 1_000)

    assert parse_document(edit(KEYWORD_LINE, line)).keywords == [
        "Soviet cinema",
        "war dramas",
        "Kalatozov films",
    ]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(KEYWORD_LINE + ", " + "x" * 150, id="last-of-many"),
        pytest.param("x" * 150 + ", Soviet cinema, war dramas", id="first-of-many"),
        pytest.param("Keywords: " + "x" * 150, id="labelled-alone"),
    ],
)
def test_a_keyword_of_150_characters_is_refused(line):
    assert refusal(edit(KEYWORD_LINE, line)) == (
        f"“keywords.txt” has a keyword of 150 characters (“{'x' * 39}…”); a keyword may have "
        f"at most {MAX_KEYWORD_LENGTH}. Shorten it and import it again."
    )


def test_a_keyword_of_100_characters_is_accepted():
    keyword = "y" * MAX_KEYWORD_LENGTH

    assert keyword in parse_document(edit(KEYWORD_LINE, f"{KEYWORD_LINE}, {keyword}")).keywords


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("Soviet cinema, war dramas, <script>alert(1)</script>", "<script>alert(1)</script>"),
        ('Soviet cinema, <a href="https://spam.example">cheap DVDs</a>, war', "<a href="),
        ('Soviet cinema, war dramas, <img src=x onerror="alert(1)">', "<img src=x"),
        ("<script>alert('x')</script>", "<script>"),
        ("<p>Soviet cinema, war dramas, Kalatozov films</p>", "<p>Soviet cinema"),
        ("<b>Soviet cinema</b>, war dramas, Kalatozov films", "<b>Soviet cinema</b>"),
        ("Soviet cinema, war dramas, Kalatozov <!-- films -->", "<!-- films -->"),
        ("Tom &amp; Jerry, cartoons, cats", "&amp; Jerry"),
        ("Keywords: war, <em>love</em>", "<em>love</em>"),
    ],
    ids=[
        "script",
        "link",
        "img",
        "script-alone",
        "paragraph",
        "bold",
        "comment",
        "entity",
        "label",
    ],
)
def test_a_keyword_line_with_markup_is_refused_as_such(line, shown):
    message = refusal(edit(KEYWORD_LINE, line))

    assert message.startswith("“keywords.txt” has HTML markup (“")
    assert shown in message
    assert message.endswith(
        "in its keyword line. Keywords are plain text separated by commas: remove the markup "
        "and import it again."
    )


@pytest.mark.parametrize("line", ["I <3 cinema, war, love", "x<y, war, love", "Q&A, war, love"])
def test_angle_brackets_and_ampersands_that_are_not_markup_are_fine(line):
    keywords = [part.strip() for part in line.split(",")]

    assert parse_document(edit(KEYWORD_LINE, line)).keywords == keywords


def test_a_bad_keyword_line_never_becomes_conclusion_text():
    # Before: a line too long, or with markup, was appended to the Conclusion with only a
    # "no keyword line" warning. Now the document is refused, naming the problem.
    for line in [", ".join(f"k{i}" for i in range(3_000)), "war, <i>love</i>"]:
        with pytest.raises(DocumentError, match="keyword"):
            parse_document(edit(KEYWORD_LINE, line))


# --- Reading a document from a stream -------------------------------------------------------


class EndlessStream:
    """Like /dev/zero: never ends, and returns less than asked for, as a pipe may."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, size=-1):
        assert size > 0, "an unbounded read of an endless stream"
        chunk = b"x" * min(size, 4_096)
        self.read_bytes += len(chunk)
        return chunk


def test_read_document_reads_one_byte_past_the_limit_and_refuses():
    stream = EndlessStream()

    with pytest.raises(DocumentError) as info:
        read_document(stream, filename="endless.txt")

    assert str(info.value) == (
        "“endless.txt” is larger than 1 MB, the limit for a review document."
    )
    assert stream.read_bytes == MAX_DOCUMENT_BYTES + 1


def test_read_document_returns_a_document_at_the_limit():
    data = FIXTURE_BYTES + b" " * (MAX_DOCUMENT_BYTES - len(FIXTURE_BYTES))

    assert read_document(io.BytesIO(data)) == data


def test_read_document_refuses_a_pipe_that_sends_more_than_the_limit():
    read_end, write_end = os.pipe()

    def write():
        with os.fdopen(write_end, "wb") as pipe, contextlib.suppress(BrokenPipeError):
            for _ in range(40):
                pipe.write(b"y" * 65_536)  # 2.6 MB in all

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_end, "rb") as pipe, pytest.raises(DocumentError, match="larger than 1 MB"):
        read_document(pipe)
    writer.join()


# --- Availability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Streaming on Netflix and Max", [("Netflix", "subscription"), ("Max", "subscription")]),
        ("Available to stream on Mubi.", [("MUBI", "subscription")]),
        ("Included with Prime.", [("Amazon Prime Video", "subscription")]),
        ("Free on Tubi and Kanopy.", [("Tubi", "free"), ("Kanopy", "free")]),
        ("Free with ads on Pluto TV.", [("Pluto TV", "ads")]),
        ("Available to rent on Apple TV.", [("Apple TV", "rent")]),
        ("For purchase on Vudu.", [("Vudu", "buy")]),
        ("Available to buy or rent on Apple TV and YouTube.",
         [("Apple TV", "buy"), ("Apple TV", "rent"), ("YouTube", "buy"), ("YouTube", "rent")]),
        ("Rent/buy on iTunes.", [("iTunes", "rent"), ("iTunes", "buy")]),
        ("Available on The Criterion Channel.", [("Criterion Channel", "subscription")]),
        ("Netflix, Hulu, and Disney+", [("Netflix", "subscription"), ("Hulu", "subscription"),
                                        ("Disney+", "subscription")]),
        ("Streaming on Netflix, or rent it on Apple TV.",
         [("Netflix", "subscription"), ("Apple TV", "rent")]),
        ("Watch it free with ads on Tubi, or subscribe to Netflix.",
         [("Tubi", "ads"), ("Netflix", "subscription")]),
        ("Amazon Prime Video for rent.", [("Amazon Prime Video", "rent")]),
        ("Streaming on Netflix (subscription), Apple TV (rent/buy).",
         [("Netflix", "subscription"), ("Apple TV", "rent"), ("Apple TV", "buy")]),
        ("Streaming on Film Friends and for rent on Cinema Shop.",
         [("Film Friends", "subscription"), ("Cinema Shop", "rent")]),
        ("Available on Criterion Channel; also free with ads on Pluto TV and free on Kanopy.",
         [("Criterion Channel", "subscription"), ("Pluto TV", "ads"), ("Kanopy", "free")]),
        ("Streaming on Max and the Criterion Channel and Max.",
         [("Max", "subscription"), ("Criterion Channel", "subscription")]),
        ("Stream it on Max & Hulu in the US.", [("Max", "subscription"), ("Hulu", "subscription")]),
        ("Criterion Channel; Amazon, iTunes and Google Play (rent or buy).",
         [("Criterion Channel", "subscription"), ("Amazon Prime Video", "rent"),
          ("Amazon Prime Video", "buy"), ("iTunes", "rent"), ("iTunes", "buy"),
          ("Google Play", "rent"), ("Google Play", "buy")]),
        ("For rent on iTunes and the Microsoft Store.",
         [("iTunes", "rent"), ("Microsoft Store", "rent")]),
        ("Available on Netflix (US) and Hulu.",
         [("Netflix", "subscription"), ("Hulu", "subscription")]),
    ],
)  # fmt: skip
def test_availability_wordings(sentence, expected):
    assert offers_for(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Not currently streaming.",
        "Not currently streaming",
        "Not available to stream.",
        "Not currently available on any streaming service.",
        "Isn’t streaming anywhere right now.",
        "Unavailable for streaming.",
    ],
)
def test_not_currently_streaming(sentence):
    parsed = parse_document(with_line("Streaming Services", sentence))
    assert parsed.not_streaming is True
    assert parsed.offers == []
    assert parsed.streaming_text == sentence
    assert parsed.warnings == []


def test_not_streaming_but_available_to_rent():
    parsed = parse_document(
        with_line("Streaming Services", "Not streaming, but available to rent on Apple TV.")
    )
    assert parsed.not_streaming is True
    assert parsed.offers == [ParsedOffer("Apple TV", "rent")]


def test_physical_media_mention_is_a_warning_not_an_offer():
    parsed = parse_document(
        with_line("Streaming Services", "Not available to stream; available to buy on Blu-ray.")
    )
    assert parsed.not_streaming is True
    assert parsed.offers == []
    assert (
        "“available to buy on Blu-ray” is about physical media, not streaming; ignored."
        in parsed.warnings
    )


def test_unrecognised_availability_clause_is_a_warning_naming_it():
    parsed = parse_document(
        with_line("Streaming Services", "Streaming on Netflix; coming soon to theaters.")
    )
    assert parsed.offers == [ParsedOffer("Netflix", "subscription")]
    assert any("“coming soon to theaters”" in warning for warning in parsed.warnings)


def test_availability_sentence_with_no_offers_is_a_warning():
    parsed = parse_document(with_line("Streaming Services", "Ask your local library."))
    assert parsed.offers == []
    assert parsed.not_streaming is False
    assert any("Ask your local library" in warning for warning in parsed.warnings)


def test_lowercase_common_words_are_not_taken_for_services():
    assert offers_for("Streaming on Netflix in max quality.") == [("Netflix", "subscription")]


# --- Suggested credits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Cabiria (Giulietta Masina) dreams.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina (Cabiria) dreams.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina plays Cabiria.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina stars as Cabiria.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina, as Cabiria, is luminous.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina gives a heartbreaking performance as Cabiria.",
         ("Giulietta Masina", "actor", "Cabiria")),
        ("Cabiria, played by Giulietta Masina, dances.", ("Giulietta Masina", "actor", "Cabiria")),
        ("Giulietta Masina’s performance as Cabiria glows.",
         ("Giulietta Masina", "actor", "Cabiria")),
        ("François Périer plays Oscar D’Onofrio.", ("François Périer", "actor", "Oscar D’Onofrio")),
        ("Aldo Tonti’s luminous cinematography.", ("Aldo Tonti", "cinematographer", "")),
        ("The cinematography by Aldo Tonti shines.", ("Aldo Tonti", "cinematographer", "")),
        ("Shot by cinematographer Aldo Tonti.", ("Aldo Tonti", "cinematographer", "")),
        ("Nino Rota’s musical score lifts it.", ("Nino Rota", "composer", "")),
        ("The score by Nino Rota lifts it.", ("Nino Rota", "composer", "")),
        ("The music by Nino Rota lifts it.", ("Nino Rota", "composer", "")),
        ("The music is by Nino Rota.", ("Nino Rota", "composer", "")),
        ("Composer Nino Rota is on form.", ("Nino Rota", "composer", "")),
        ("The film’s composer, Nino Rota, is on form.", ("Nino Rota", "composer", "")),
        ("It was written by Ennio Flaiano.", ("Ennio Flaiano", "writer", "")),
        ("Ennio Flaiano’s screenplay is sharp.", ("Ennio Flaiano", "writer", "")),
        ("The screenplay by Ennio Flaiano is sharp.", ("Ennio Flaiano", "writer", "")),
        ("It was edited by Leo Catozzo.", ("Leo Catozzo", "editor", "")),
        ("Editor Leo Catozzo keeps it taut.", ("Leo Catozzo", "editor", "")),
        ("It was produced by Dino De Laurentiis.", ("Dino De Laurentiis", "producer", "")),
        ("Ludwig van Beethoven’s music recurs.", ("Ludwig van Beethoven", "composer", "")),
        ("Вероника (Татьяна Самойлова) ждёт.", ("Татьяна Самойлова", "actor", "Вероника")),
        ("Музыка: the score by Моисей Вайнберг.", ("Моисей Вайнберг", "composer", "")),
        ("Peter O'Toole stars as Lawrence.", ("Peter O'Toole", "actor", "Lawrence")),
        ("Additionally Aldo Tonti’s camerawork dazzles.", ("Aldo Tonti", "cinematographer", "")),
    ],
)  # fmt: skip
def test_credit_patterns(body, expected):
    assert people(credits_for(body)) == {expected}


def test_sentence_opening_word_is_not_part_of_the_name():
    credits = credits_for("Watching Giulietta Masina’s performance is a joy.")
    assert people(credits) == {("Giulietta Masina", "actor", "")}


def test_describing_words_stop_at_a_conjunction():
    assert credits_for("Giulietta Masina’s face and the score carry it.") == []


def test_actor_named_in_the_subtitle_is_still_suggested():
    credits = credits_for(
        "Cabiria (Giulietta Masina) dreams.",
        title_line="Nights of Cabiria (1957) – Giulietta Masina’s Finest Hour",
    )
    assert people(credits) == {("Giulietta Masina", "actor", "Cabiria")}


@pytest.mark.parametrize(
    "body",
    [
        "Nights of Cabiria (Le Notti di Cabiria) opened in 1957.",
        "“Nights of Cabiria” (Le Notti Di Cabiria) opened in 1957.",
        "Le Notti Di Cabiria (Nights of Cabiria) opened in 1957.",
    ],
)
def test_original_title_in_brackets_is_not_a_credit(body):
    assert credits_for(body) == []


def test_a_list_after_by_shares_the_role_but_leaves_out_the_director():
    credits = credits_for(
        "The screenplay by Ennio Flaiano, Tullio Pinelli and Federico Fellini is tight, "
        "and Giulietta Masina, as Cabiria, dances."
    )
    assert people(credits) == {
        ("Ennio Flaiano", "writer", ""),
        ("Tullio Pinelli", "writer", ""),
        ("Giulietta Masina", "actor", "Cabiria"),
    }
    evidence = {credit.person: credit.evidence for credit in credits}
    assert evidence["Tullio Pinelli"] == "screenplay by Ennio Flaiano, Tullio Pinelli"


def test_credit_without_character_gains_the_character_found_later():
    credits = credits_for(
        "Giulietta Masina’s performance is the heart of it. Later, Cabiria (Giulietta Masina) "
        "dances in the street."
    )
    assert people(credits) == {("Giulietta Masina", "actor", "Cabiria")}
    assert credits[0].evidence == "Cabiria (Giulietta Masina)"


def test_same_person_in_two_roles_gives_two_suggestions():
    credits = credits_for("It was written by Ennio Flaiano. Ennio Flaiano plays a waiter.")
    assert people(credits) == {("Ennio Flaiano", "writer", ""), ("Ennio Flaiano", "actor", "")}


def test_credits_are_found_in_every_section():
    text = "\n".join(
        [
            "Nights of Cabiria (1957) – Hope in the Dark",
            "Director: Federico Fellini",
            "Synopsis",
            "Cabiria (Giulietta Masina) dreams.",
            "Review",
            "The score by Nino Rota.",
            "Criticisms",
            "It was edited by Leo Catozzo.",
            "Conclusion",
            "Aldo Tonti’s cinematography.",
        ]
    )
    assert people(parse_document(text).suggested_credits) == {
        ("Giulietta Masina", "actor", "Cabiria"),
        ("Nino Rota", "composer", ""),
        ("Leo Catozzo", "editor", ""),
        ("Aldo Tonti", "cinematographer", ""),
    }


@pytest.mark.parametrize(
    "body",
    [
        "Federico Fellini’s screenplay is sharp.",  # the director is credited already
        "Cabiria (Federico Fellini) is a joke.",
        "The film is set after World War II (WWII) in Rome.",
        "The Soviet Union (USSR) plays a part.",
        "Nights Of Cabiria plays like a dream.",  # the film title is not a person
        "Ennio Flaiano as writer and Aldo Tonti as Cinematographer.",
        "The score lifts it.",
        "Kalatozov’s direction and Urusevsky’s cinematography.",  # surnames alone
        "She plays Cabiria.",
    ],
)
def test_no_silly_credits(body):
    assert credits_for(body) == []


def test_film_title_that_looks_like_a_name_is_never_suggested():
    text = document(
        "Ivan Denisovich plays like a fever dream.", title_line="Ivan Denisovich (1970)"
    )
    text = edit("Title: Nights of Cabiria", "Title: Ivan Denisovich", text)
    assert parse_document(text).suggested_credits == []


def test_directors_are_never_suggested_even_with_accents_or_cyrillic():
    text = with_line("Director", "Михаил Калатозов", FIXTURE)
    text = edit("Dmitri Shostakovich’s", "Михаил Калатозов’s", text)
    names = {credit.person for credit in parse_document(text).suggested_credits}
    assert "Михаил Калатозов" not in names
    assert "Mikhail Kalatozov" not in names


def test_keyword_line_is_not_scanned_for_credits():
    text = edit(KEYWORD_LINE, "Nino Rota’s musical score, war films, Soviet dramas")
    assert "Nino Rota" not in {credit.person for credit in parse_document(text).suggested_credits}


# --- Documents that cannot be imported ------------------------------------------------------


def test_not_utf8_is_refused_with_advice():
    data = "Les Quatre Cents Coups (1959)\nSynopsis\nAntoine fait l’école buissonnière."
    with pytest.raises(DocumentError) as info:
        parse_document(data.encode("cp1252"), filename="400-coups.txt")
    message = str(info.value)
    assert "“400-coups.txt”" in message
    assert "not UTF-8" in message
    assert "Save it as UTF-8" in message
    assert "line 3" in message


def test_utf16_is_refused_with_advice():
    with pytest.raises(DocumentError, match="UTF-16.*Save it as UTF-8"):
        parse_document(FIXTURE.encode("utf-16"), filename="cranes.txt")


@pytest.mark.parametrize("data", [b"", ""])
def test_empty_document_is_refused(data):
    with pytest.raises(DocumentError, match="^“empty.txt” is empty.$"):
        parse_document(data, filename="empty.txt")


@pytest.mark.parametrize("data", [b" \r\n\t\n", "\ufeff  \n\u00a0\n", b"\xef\xbb\xbf\n\n"])
def test_whitespace_only_document_is_refused(data):
    with pytest.raises(DocumentError, match="^“blank.txt” contains only whitespace.$"):
        parse_document(data, filename="blank.txt")


def test_document_over_the_size_limit_is_refused():
    data = FIXTURE_BYTES + b"x" * (1_400_000 - len(FIXTURE_BYTES))
    with pytest.raises(DocumentError) as info:
        parse_document(data, filename="huge.txt")
    assert str(info.value) == "“huge.txt” is 1.4 MB; the limit is 1 MB."


def test_text_over_the_size_limit_is_refused():
    with pytest.raises(DocumentError, match="the limit is 1 MB"):
        parse_document(FIXTURE + "x" * MAX_DOCUMENT_BYTES)


def test_document_exactly_at_the_size_limit_is_accepted():
    padding = b" " * (MAX_DOCUMENT_BYTES - len(FIXTURE_BYTES))
    data = FIXTURE_BYTES.replace(b"\nCriticisms", padding + b"\nCriticisms")
    assert len(data) == MAX_DOCUMENT_BYTES
    assert parse_document(data).title == "The Cranes Are Flying"


def test_binary_file_is_refused():
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    with pytest.raises(DocumentError, match="^“poster.png” looks like a binary file"):
        parse_document(data, filename="poster.png")


def test_nul_bytes_in_an_otherwise_readable_document_are_refused():
    with pytest.raises(DocumentError, match="binary"):
        parse_document(FIXTURE_BYTES.replace(b"Synopsis", b"Syn\x00opsis"))


def test_document_without_a_title_is_refused():
    text = edit(LINES[0] + "\n", "", edit("Title: The Cranes Are Flying\n", ""))
    with pytest.raises(DocumentError, match="^“untitled.txt” has no title"):
        parse_document(text, filename="untitled.txt")


def test_document_starting_with_a_section_is_refused_for_having_no_title():
    with pytest.raises(DocumentError, match="has no title"):
        parse_document("\n".join(LINES[6:]))


def test_document_without_sections_is_refused():
    text = "\n".join(LINES[:6] + SYNOPSIS + REVIEW)
    with pytest.raises(DocumentError) as info:
        parse_document(text, filename="notes.txt")
    assert str(info.value).startswith("“notes.txt” has no sections")
    assert "Synopsis" in str(info.value)


def test_only_keywords_heading_is_not_a_section():
    text = "\n".join([*LINES[:6], "Keywords", KEYWORD_LINE])
    with pytest.raises(DocumentError, match="has no sections"):
        parse_document(text)


def test_messages_without_a_filename_speak_of_the_document():
    with pytest.raises(DocumentError, match="^The document is empty.$"):
        parse_document(b"")


def test_filename_is_reduced_to_its_base_name():
    with pytest.raises(DocumentError, match="^“cranes.txt” is empty.$"):
        parse_document(b"", filename="/tmp/uploads/cranes.txt")


def test_title_beginning_with_a_hash_sign_is_kept():
    parsed = parse_document(
        edit("Title: The Cranes Are Flying\n", "", edit(LINES[0], "#Alive (2020)"))
    )
    assert parsed.title == "#Alive"


@pytest.mark.parametrize(
    "paragraph",
    [
        pytest.param("a" + " " * 900_000 + "b", id="long-run-of-spaces"),
        pytest.param("a" * 900_000, id="one-huge-word"),
        pytest.param("#" * 900_000 + " x", id="hashes"),
    ],
)
def test_pathological_lines_near_the_size_limit_still_parse(paragraph):
    parsed = parse_document(FIXTURE + "\n" + paragraph)
    assert parsed.title == "The Cranes Are Flying"


def test_document_error_is_a_value_error():
    assert issubclass(DocumentError, ValueError)
