"""The standfirst's fallback (the conclusion's first sentence) and the keyword filter."""

import pytest

from reviews.text import first_sentence, normalised, repeats_title, truncate


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("See it. Twice.", "See it."),
        ("Dr. Strangelove still bites. It is 1964.", "Dr. Strangelove still bites."),
        ("Mr. and Mrs. Smith meet St. Louis! Then not.", "Mr. and Mrs. Smith meet St. Louis!"),
        ("Shot in the U.S. and Canada. Cut in Paris.", "Shot in the U.S. and Canada."),
        ("It cost 3.5 million dollars. A bargain.", "It cost 3.5 million dollars."),
        ("J. Edgar Hoover looms. Quietly.", "J. Edgar Hoover looms."),
        ("Wait... what? Exactly.", "Wait... what?"),
        ("It drifts… and ends. Later.", "It drifts… and ends."),
        ("She says “Go home.” He stays.", "She says “Go home.”"),
        ('He asks "why?" and leaves. Then.', 'He asks "why?" and leaves.'),
        ("No punctuation at all", "No punctuation at all"),
        ("First paragraph, no stop\n\nSecond. Paragraph.", "First paragraph, no stop"),
        ("  Spaces\n and   lines. Next.", "Spaces and lines."),
        ("東京物語は傑作だ。必見。", "東京物語は傑作だ。"),
        ("これは何？答えだ。", "これは何？"),
        ("Это шедевр Калатозова. Смотрите.", "Это шедевр Калатозова."),
        ("¿Qué pasa? Nada.", "¿Qué pasa?"),
        ("", ""),
    ],
)
def test_first_sentence(text, sentence):
    assert first_sentence(text) == sentence


def test_a_very_long_sentence_is_cut_on_a_word_boundary_with_an_ellipsis():
    text = "A sentence that goes on " + "and on " * 80 + "until it stops."

    result = first_sentence(text, limit=100)

    assert len(result) <= 100
    assert result.endswith("…")
    assert text.startswith(result[:-1]) and text[len(result) - 1] == " "  # a whole word


def test_text_without_spaces_is_cut_anywhere():
    assert first_sentence("長" * 500, limit=10) == "長" * 9 + "…"


def test_truncation_leaves_no_dangling_punctuation():
    assert truncate("One, two, three, four, five", 12) == "One, two…"


def test_hostile_text_comes_back_as_plain_text():
    text = '<script>alert("x")</script>. Next.'
    assert first_sentence(text) == '<script>alert("x")</script>.'  # escaped by the template


@pytest.mark.parametrize(
    ("keyword", "titles", "repeats"),
    [
        ("Vertigo 1958 review", ["Vertigo"], True),
        ("Vertigo streaming", ["Vertigo"], True),
        ("vertigo", ["Vertigo"], True),
        ("The Cranes Are Flying Criterion Channel", ["The Cranes Are Flying"], True),
        ("Cranes are flying 1957 movie review", ["The Cranes Are Flying"], True),
        ("Amelie streaming", ["Amélie"], True),
        ("AMÉLIE", ["Le Fabuleux Destin d'Amélie Poulain", "Amélie"], True),
        ("Летят журавли онлайн", ["The Cranes Are Flying", "Летят журавли"], True),
        ("Mikhail Kalatozov films", ["The Cranes Are Flying"], False),
        ("Vertigoes", ["Vertigo"], False),
        ("Alfred Hitchcock thrillers", ["Vertigo"], False),
        ("Soviet war dramas", ["The Cranes Are Flying", ""], False),
    ],
)
def test_repeats_title(keyword, titles, repeats):
    assert repeats_title(keyword, *titles) is repeats


def test_normalised_ignores_case_accents_punctuation_and_a_leading_article():
    assert normalised("The  Cranes—Are Flying!") == normalised("cranes are flying")
    assert normalised("Amélie") == "amelie"
    assert normalised("The") == "the"
