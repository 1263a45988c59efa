"""Small text helpers for how reviews read on the site: a standfirst from the conclusion's first
sentence, and whether a keyword only repeats the film's title."""

import re
import unicodedata

STANDFIRST_MAX = 300

# Words that end with a full stop without ending the sentence ("Dr. Strangelove", "St. Louis").
ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr st mt prof jr sr sen rep gov gen col lt sgt capt cmdr rev hon mme mlle "
    "messrs vol vols fig ch pp op cf ca approx vs viz al inc ltd co corp bros".split()
)
# A sentence ends at one of these (the CJK ones need no space after them)...
_END = re.compile(
    r"""(?:\.{3}|[.!?…‽])+ ["'”’»)\]」』]*(?=\s|$)   # Latin: then a space or the end
      | [。！？．｡][」』”’）)]*                      # CJK: wherever it is
      | [।॥؟۔][”’)]*(?=\s|$)                      # Devanagari, Arabic, Urdu
    """,
    re.VERBOSE,
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def first_sentence(text: str, limit: int = STANDFIRST_MAX) -> str:
    """The first sentence of ``text``'s first paragraph, at most ``limit`` characters (cut on a
    word boundary, with an ellipsis, when it is longer). Empty for empty text."""
    paragraph = next((p for p in re.split(r"\n\s*\n", text or "") if p.strip()), "")
    paragraph = " ".join(paragraph.split())
    for match in _END.finditer(paragraph):
        if _ends_sentence(paragraph, match):
            return truncate(paragraph[: match.end()].strip(), limit)
    return truncate(paragraph, limit)


def _ends_sentence(text: str, match: re.Match) -> bool:
    rest = text[match.end() :].lstrip()
    if rest[:1].islower():
        return False  # "Wait… what" or "e.g. this": the sentence goes on
    if match.group()[0] == "." and not match.group().startswith("..."):
        word = _WORD_BEFORE.search(text[: match.start()])
        if word:
            token = word.group(1)
            if "." in token.strip("."):
                return False  # "U.S." or "e.g." inside a sentence
            if token.casefold() in ABBREVIATIONS:
                return False
            if len(token) == 1 and token.isupper():
                return False  # an initial: "J. Edgar"
    return True


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters on a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # text without spaces (Chinese, Japanese) is cut anywhere
        cut = cut[:space]
    return cut.rstrip(" ,;:–—-") + "…"


def normalised(text: str) -> str:
    """Lower case, without accents or punctuation, words separated by single spaces, leading
    English article dropped: "The Cranes Are Flying!" and "cranes are flying" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[\W_]+", " ", plain).split()
    if len(words) > 1 and words[0] in ("the", "a", "an"):
        words = words[1:]
    return " ".join(words)


def repeats_title(keyword: str, *titles: str) -> bool:
    """Whether the keyword is one of the titles, or a title followed by more words ("Vertigo
    1958 review", "Vertigo streaming"): a phrase written for search engines, not for readers."""
    key = normalised(keyword)
    for title in filter(None, map(normalised, titles)):
        if key == title or key.startswith(title + " "):
            return True
    return False
