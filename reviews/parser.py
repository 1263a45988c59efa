"""Parse review documents written in the magazine's house format.

A document is a title line ("The Cranes Are Flying (1957) – A Soviet Cinematic
Masterpiece"), a few ``Key: value`` header lines, the sections Synopsis, Review,
Criticisms and Conclusion, and a last line of comma-separated keywords.

Standard library only, so the importer, the admin and any script can share it.
Everything an editor can fix is reported in ``ParsedDocument.warnings``; only a
document that cannot be imported at all raises ``DocumentError``.
"""

import dataclasses
import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass, field

MAX_DOCUMENT_BYTES = 1_000_000
# A review's keywords become public tags: a few dozen at most, each within django-taggit's
# Tag.name (100 characters).
MAX_KEYWORDS = 50
MAX_KEYWORD_LENGTH = 100


class DocumentError(ValueError):
    """The document cannot be imported.

    ``str(err)`` is a clear, editor-facing message naming the file and the problem.
    """


@dataclass(frozen=True)
class ParsedOffer:
    service: str
    offer_type: str  # "subscription" | "rent" | "buy" | "free" | "ads"


@dataclass(frozen=True)
class SuggestedCredit:
    person: str
    # "actor" | "director" | "writer" | "producer" | "cinematographer" | "editor" | "composer"
    role: str
    character: str = ""
    evidence: str = ""


@dataclass
class ParsedDocument:
    title: str
    year: int | None = None
    subtitle: str = ""
    directors: list[str] = field(default_factory=list)
    release_date: datetime.date | None = None
    genres: list[str] = field(default_factory=list)
    streaming_text: str = ""
    offers: list[ParsedOffer] = field(default_factory=list)
    not_streaming: bool = False
    synopsis: str = ""
    critique: str = ""
    criticisms: str = ""
    conclusion: str = ""
    keywords: list[str] = field(default_factory=list)
    suggested_credits: list[SuggestedCredit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return self.subtitle or self.title


def parse_document(data: bytes | str, *, filename: str = "") -> ParsedDocument:
    """Parse one review document; raise DocumentError if it cannot be imported."""
    subject = _subject(filename)
    text = _decode(data, subject)
    return _parse_text(text, subject)


def read_document(stream, *, filename: str = "") -> bytes:
    """Read a document from a binary stream, refusing one over ``MAX_DOCUMENT_BYTES``.

    Reads at most one byte past the limit, whatever the stream: a file, an upload, a pipe,
    standard input, or a device such as /dev/zero that never ends.
    """
    chunks: list[bytes] = []
    wanted = MAX_DOCUMENT_BYTES + 1
    while wanted > 0:
        chunk = stream.read(min(wanted, 1 << 16))  # a pipe may return less than asked for
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    if wanted <= 0:
        raise DocumentError(
            f"{_subject(filename)} is larger than {MAX_DOCUMENT_BYTES / 1_000_000:g} MB, the "
            "limit for a review document."
        )
    return b"".join(chunks)


# --- Decoding ---------------------------------------------------------------------------------

_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _subject(filename: str) -> str:
    name = re.split(r"[\\/]", filename.strip())[-1] if filename.strip() else ""
    return f"“{name}”" if name else "The document"


def _format_size(size: int) -> str:
    megabytes = size / 1_000_000
    if round(megabytes, 1) <= MAX_DOCUMENT_BYTES / 1_000_000:
        # "1.0 MB; the limit is 1 MB" would read as a contradiction.
        return f"{size:,} bytes"
    return f"{megabytes:.1f} MB"


def _decode(data: bytes | str, subject: str) -> str:
    limit = f"{MAX_DOCUMENT_BYTES / 1_000_000:g} MB"
    if isinstance(data, str):
        size = len(data.encode("utf-8", "surrogatepass"))
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"{subject} is {_format_size(size)}; the limit is {limit}.")
        text = data
    else:
        if len(data) > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"{subject} is {_format_size(len(data))}; the limit is {limit}.")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DocumentError(
                f"{subject} is saved as UTF-16 text. Save it as UTF-8 text and upload it again."
            )
        if b"\x00" in data:
            raise DocumentError(
                f"{subject} looks like a binary file (it contains NUL bytes), not a text "
                "document. Save the review as plain UTF-8 text and upload it again."
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            raise DocumentError(
                f"{subject} is not UTF-8 text (unreadable byte 0x{data[err.start]:02X} on line "
                f"{line}). Save it as UTF-8 text and upload it again."
            ) from None
    if "\x00" in text:
        raise DocumentError(
            f"{subject} looks like a binary file (it contains NUL bytes), not a text document."
        )
    text = text.removeprefix("\ufeff")
    if not text:
        raise DocumentError(f"{subject} is empty.")
    if all(ch.isspace() or ch in _INVISIBLE for ch in text):
        raise DocumentError(f"{subject} contains only whitespace.")
    return text


# --- Small text helpers -----------------------------------------------------------------------

_SPACES_RE = re.compile(r"\s+")
_QUOTES = "\"'“”‘’«»„"


def _clean_line(line: str) -> str:
    return line.strip().strip(_INVISIBLE).strip()


def _collapse(text: str) -> str:
    return _SPACES_RE.sub(" ", text).strip()


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """Comparison key: case, accents, quote style and spacing do not matter."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _collapse(text).casefold()


def _unquote(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def _excerpt(text: str, limit: int = 60) -> str:
    text = _collapse(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _strip_markdown(line: str) -> str:
    """Drop heading hashes, list bullets and bold/italic markers around a short line."""
    # String methods rather than regexes: this runs on every line, some of them huge.
    line = line.strip()
    if line.startswith("#") and line.lstrip("#")[:1].isspace():
        line = line.lstrip("#").strip()
    if line.endswith("#") and line.rstrip("#")[-1:].isspace():
        line = line.rstrip("#").strip()
    if line[:2] in ("- ", "• "):
        line = line[2:]
    return line.replace("**", "").replace("__", "").strip().strip("*_").strip()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        key = _fold(item)
        if item and key not in seen:
            seen.add(key)
            result.append(item)
    return result


# --- Document structure -----------------------------------------------------------------------

_SECTIONS = {
    "synopsis": "synopsis",
    "plot": "synopsis",
    "plot summary": "synopsis",
    "summary": "synopsis",
    "review": "critique",
    "the review": "critique",
    "critique": "critique",
    "criticisms": "criticisms",
    "criticism": "criticisms",
    "conclusion": "conclusion",
    "conclusions": "conclusion",
    "verdict": "conclusion",
    "final verdict": "conclusion",
    "final thoughts": "conclusion",
    "keywords": "keywords",
    "keyword": "keywords",
    "key words": "keywords",
    "seo keywords": "keywords",
    "tags": "keywords",
}
_SECTION_NAMES = {
    "synopsis": "Synopsis",
    "critique": "Review",
    "criticisms": "Criticisms",
    "conclusion": "Conclusion",
}

_HEADERS = {
    "title": "title",
    "film": "title",
    "film title": "title",
    "movie": "title",
    "movie title": "title",
    "director": "director",
    "directors": "director",
    "directed by": "director",
    "release date": "release_date",
    "release": "release_date",
    "released": "release_date",
    "genre": "genre",
    "genres": "genre",
    "streaming services": "streaming",
    "streaming service": "streaming",
    "streaming": "streaming",
    "streaming on": "streaming",
    "where to watch": "streaming",
    "where to stream": "streaming",
    "availability": "streaming",
    "streaming availability": "streaming",
    "keywords": "keywords",
    "keyword": "keywords",
    "key words": "keywords",
    "seo keywords": "keywords",
    "tags": "keywords",
}
_HEADER_NAMES = {
    "title": "Title",
    "director": "Director",
    "release_date": "Release Date",
    "genre": "Genre",
    "streaming": "Streaming Services",
}

_HEADER_RE = re.compile(r"^([^\W\d_]+(?:[\s&/'’.-]+[^\W\d_]+)*)\s*[:：]\s*(.*)$")
_INLINE_HEADING_RE = re.compile(r"^([^\W\d_][^\W\d_ ]*(?: [^\W\d_]+){0,2})\s*[:：]\s*(\S.*)$")


def _heading(line: str) -> tuple[str, str] | None:
    """Return (section key, text after the heading) if the line is a section heading."""
    plain = _strip_markdown(line)
    key = _collapse(plain.rstrip(":：").rstrip()).casefold()
    if key in _SECTIONS:
        return _SECTIONS[key], ""
    match = _INLINE_HEADING_RE.match(plain)
    if match and _collapse(match.group(1)).casefold() in _SECTIONS:
        # "**Synopsis:** The film follows ..." – keep the text, minus stray emphasis markers.
        rest = line.split(":", 1)[-1] if ":" in line else line.split("：", 1)[-1]
        return _SECTIONS[_collapse(match.group(1)).casefold()], rest.strip().strip("*_").strip()
    return None


def _header(line: str) -> tuple[str, str] | None:
    """Return (normalised key, value) for a ``Key: value`` line with a short key."""
    match = _HEADER_RE.match(_strip_markdown(line))
    if not match:
        return None
    key = _collapse(re.sub(r"[-_.]", " ", match.group(1))).casefold()
    if len(key.split()) > 4 or len(key) > 40:
        return None
    return key, _collapse(match.group(2).strip().strip("*_"))


@dataclass
class _Sections:
    paragraphs: dict[str, list[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # section keys in document order
    last: str = ""  # the section the document's last paragraph went into


def _parse_text(text: str, subject: str) -> ParsedDocument:
    warnings: list[str] = []
    lines = [line for line in (_clean_line(raw) for raw in text.splitlines()) if line]
    if not lines:
        raise DocumentError(f"{subject} contains only whitespace.")

    # The first line is the title line unless the writer started straight with headers.
    first_line = ""
    position = 0
    first_header = _header(lines[0])
    first_heading = _heading(lines[0])
    if not (first_header and first_header[0] in _HEADERS) and not (
        first_heading and not first_heading[1]
    ):
        first_line = _collapse(_strip_markdown(lines[0]))
        position = 1

    end = position
    while end < len(lines) and _heading(lines[end]) is None:
        end += 1
    keyword_lines: list[str] = []
    headers = _read_headers(lines[position:end], warnings, keyword_lines)
    sections = _collect_sections(lines[end:], warnings, keyword_lines)

    title, year, subtitle = _parse_title(first_line, headers.get("title", ""), warnings)
    if not title:
        raise DocumentError(
            f"{subject} has no title: start it with a line such as “The Cranes Are Flying "
            "(1957) – A Soviet Cinematic Masterpiece” or add a “Title:” header."
        )
    if not any(key in _SECTION_NAMES for key in sections.order):
        raise DocumentError(
            f"{subject} has no sections: put the headings “Synopsis”, “Review”, “Criticisms” "
            "and “Conclusion” on lines of their own, each followed by its text."
        )

    keywords = _take_keywords(sections, keyword_lines, title, subject, warnings)

    for key, name in _SECTION_NAMES.items():
        if key not in sections.paragraphs:
            warnings.append(f"No {name} section.")
        elif not sections.paragraphs[key]:
            warnings.append(f"The {name} section is empty.")

    for key in ("director", "release_date", "genre", "streaming"):
        if key not in headers:
            warnings.append(f"No {_HEADER_NAMES[key]} header.")
        elif not headers[key]:
            warnings.append(f"The {_HEADER_NAMES[key]} header is empty.")

    release_date, date_year = None, None
    if headers.get("release_date"):
        release_date, date_year, date_warning = _parse_date(headers["release_date"])
        if date_warning:
            warnings.append(date_warning)
    if year and date_year and year != date_year:
        warnings.append(
            f"The first line gives the year {year} but the release date is in {date_year}."
        )
    year = year or date_year
    if year is None:
        warnings.append("No year found in the first line or the release date.")

    directors = _split_names(headers.get("director", ""))
    streaming_text = headers.get("streaming", "")
    offers, not_streaming = _parse_availability(streaming_text, warnings)

    texts = {key: "\n\n".join(sections.paragraphs.get(key, [])) for key in _SECTION_NAMES}
    credits = _suggest_credits(
        [p for key in _SECTION_NAMES for p in sections.paragraphs.get(key, [])],
        title=title,
        directors=directors,
    )
    return ParsedDocument(
        title=title,
        year=year,
        subtitle=subtitle,
        directors=directors,
        release_date=release_date,
        genres=_parse_genres(headers.get("genre", "")),
        streaming_text=streaming_text,
        offers=offers,
        not_streaming=not_streaming,
        synopsis=texts["synopsis"],
        critique=texts["critique"],
        criticisms=texts["criticisms"],
        conclusion=texts["conclusion"],
        keywords=keywords,
        suggested_credits=credits,
        warnings=list(dict.fromkeys(warnings)),  # once each, in order
    )


def _read_headers(lines: list[str], warnings: list[str], keyword_lines: list[str]):
    headers: dict[str, str] = {}
    for line in lines:
        parsed = _header(line)
        if parsed is None:
            if len(line.split()) > 8:
                warnings.append(
                    f"Text before the first section heading ignored: “{_excerpt(line)}”."
                )
            else:
                warnings.append(f"Unexpected line “{line}” before the first section ignored.")
            continue
        key, value = parsed
        canonical = _HEADERS.get(key)
        if canonical is None:
            warnings.append(f"Unknown header “{_excerpt(line, 80)}” ignored.")
        elif canonical == "keywords":
            keyword_lines.append(value)
        elif canonical in headers:
            warnings.append(
                f"Duplicate {_HEADER_NAMES[canonical]} header “{_excerpt(line, 80)}” ignored."
            )
        else:
            headers[canonical] = value
    return headers


def _collect_sections(lines: list[str], warnings: list[str], keyword_lines: list[str]) -> _Sections:
    sections = _Sections()
    current = None
    for line in lines:
        heading = _heading(line)
        if heading is not None:
            key, inline = heading
            if key == "keywords" and inline:
                keyword_lines.append(inline)  # "Keywords: a, b" is a line, not a section
                continue
            current = key
            if current == "keywords":
                continue
            if current in sections.paragraphs:
                warnings.append(
                    f"The {_SECTION_NAMES[current]} heading appears twice; the texts were joined."
                )
            else:
                sections.paragraphs[current] = []
                sections.order.append(current)
            if inline:
                sections.paragraphs[current].append(inline)
                sections.last = current
        elif current == "keywords":
            keyword_lines.append(line)
        elif current is not None:
            sections.paragraphs[current].append(line)
            sections.last = current
    return sections


# --- Title line -------------------------------------------------------------------------------

_YEAR_IN_TITLE_RE = re.compile(r"^(?P<title>.*?)\s*[(\[](?P<year>\d{4})[)\]]\s*(?P<rest>.*)$")
_LEADING_SEPARATOR_RE = re.compile(r"^[\s–—:|~-]+")


def _plausible_year(value: str) -> int | None:
    year = int(value)
    return year if 1870 <= year <= 2100 else None


def _parse_title(first_line: str, header_title: str, warnings: list[str]):
    line_title, year, subtitle = "", None, ""
    header_year = None
    if header_title:
        match = _YEAR_IN_TITLE_RE.match(header_title)
        if match and match.group("title") and not match.group("rest"):
            header_title, header_year = match.group("title"), _plausible_year(match.group("year"))
        header_title = _unquote(header_title)

    if first_line:
        match = _YEAR_IN_TITLE_RE.match(first_line)
        if match and _plausible_year(match.group("year")):
            line_title = match.group("title")
            year = _plausible_year(match.group("year"))
            subtitle = _LEADING_SEPARATOR_RE.sub("", match.group("rest"))
        elif header_title and _fold(first_line[: len(header_title)]) == _fold(header_title):
            line_title = first_line[: len(header_title)]
            subtitle = _LEADING_SEPARATOR_RE.sub("", first_line[len(header_title) :])
        else:
            parts = re.split(r"\s+[–—-]\s+|\s*[–—]\s*|:\s+", first_line, maxsplit=1)
            line_title = parts[0]
            subtitle = parts[1] if len(parts) > 1 else ""
        line_title = _unquote(line_title.strip())
        subtitle = _unquote(subtitle.strip())

    if header_title and line_title and _fold(header_title) != _fold(line_title):
        warnings.append(
            f"Title header “{header_title}” differs from the first line “{line_title}”."
        )
    if not header_title and line_title:
        warnings.append("No Title header; the title was taken from the first line.")
    return header_title or line_title, year or header_year, subtitle


# --- Headers ----------------------------------------------------------------------------------

_NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def _split_names(value: str) -> list[str]:
    value = _collapse(value)
    last_word = value.rsplit(" ", 1)[-1].casefold()
    if last_word not in _NAME_SUFFIXES and not re.search(r"\b[^\W\d_]\.$", value):
        value = value.rstrip(".")  # a full stop, not "Jr." or an initial
    parts = [p.strip() for p in re.split(r"\s*(?:,|;|&|\band\b)\s*", value)]
    names: list[str] = []
    for part in parts:
        if not part:
            continue
        # "Martin Luther King, Jr." is one name, not two.
        if names and part.casefold() in _NAME_SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return _dedupe(names)


_SMALL_WORDS = {"a", "an", "and", "as", "at", "for", "in", "of", "on", "or", "the", "to"}


def _title_case_genre(genre: str) -> str:
    words = []
    for index, word in enumerate(genre.split()):
        if word.islower() and (index == 0 or word not in _SMALL_WORDS):
            word = "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
        words.append(word)
    return " ".join(words)


def _parse_genres(value: str) -> list[str]:
    parts = re.split(r"\s*(?:[,;/|]|\band\b)\s*", _collapse(value).rstrip("."))
    return _dedupe([_title_case_genre(part) for part in parts if part.strip()])


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_DAY_YEAR_RE = re.compile(r"\b([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})\b")
_DAY_MONTH_YEAR_RE = re.compile(r"\b(\d{1,2})\s+([^\W\d_]+)\.?,?\s+(\d{4})\b")
_ISO_DATE_RE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_NUMERIC_DATE_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_MONTH_YEAR_RE = re.compile(r"^([^\W\d_]+)\.?,?\s+(\d{4})$")


def _parse_date(value: str) -> tuple[datetime.date | None, int | None, str | None]:
    """Return (date, year, warning) for a release date as writers type it."""
    text = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", _collapse(value), flags=re.IGNORECASE)
    text = text.rstrip(".")
    value = _excerpt(value, 80)
    unreadable = (None, None, f"Could not read the release date “{value}”.")

    if re.fullmatch(r"\d{4}", text):
        year = _plausible_year(text)
        if year is None:
            return unreadable
        return None, year, f"Release date “{value}” is a year only."

    candidates: list[tuple[int, int, int]] = []  # (year, month, day)
    for match in _ISO_DATE_RE.finditer(text):
        candidates.append((int(match[1]), int(match[2]), int(match[3])))
    for match in _MONTH_DAY_YEAR_RE.finditer(text):
        if match[1].casefold() in _MONTHS:
            candidates.append((int(match[3]), _MONTHS[match[1].casefold()], int(match[2])))
    for match in _DAY_MONTH_YEAR_RE.finditer(text):
        if match[2].casefold() in _MONTHS:
            candidates.append((int(match[3]), _MONTHS[match[2].casefold()], int(match[1])))
    for year, month, day in candidates:
        if not _plausible_year(str(year)):
            continue
        try:
            return datetime.date(year, month, day), year, None
        except ValueError:
            continue
    if candidates:
        return unreadable

    match = _NUMERIC_DATE_RE.match(text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if not _plausible_year(match[3]):
            return unreadable
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first or first == second:
            day, month = second, first
        else:
            return (
                None,
                year,
                f"Release date “{value}” is ambiguous (day and month could be either way "
                "round); only the year was used. Write it as “October 12, 1957”.",
            )
        try:
            return datetime.date(year, month, day), year, None
        except ValueError:
            return unreadable

    match = _MONTH_YEAR_RE.match(text)
    if match and match[1].casefold() in _MONTHS and _plausible_year(match[2]):
        return None, int(match[2]), f"Release date “{value}” has no day; only the year was used."
    return unreadable


# --- Keywords ---------------------------------------------------------------------------------

_CONJUNCTIONS = {"and", "or", "but", "nor", "so", "yet", "then"}
_SENTENCE_WORDS = _words(
    """
    is are was were be been being am has have had do does did will would shall should can
    could may might must i you we they he she it its it's this that these those which who
    whom whose there their our my your me us them his her not very
    """
)


def _split_keywords(line: str) -> list[str]:
    line = _collapse(line).rstrip(".").strip()
    parts = [part.strip().rstrip(".").strip() for part in re.split(r"[,;]", line)]
    return _dedupe([part for part in parts if part])


# An HTML tag, comment or character reference: never part of a keyword.
_MARKUP_RE = re.compile(
    r"</?[A-Za-z][\w:-]*(?=[\s/>]|$)|<!--|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"
)
_TAG_RE = re.compile(r"<!--|-->|</?[A-Za-z][^<>]*>")  # each match ends before the next "<"


def _looks_like_keywords(line: str, title: str) -> bool:
    """Tell a keyword line from a closing sentence that happens to contain commas.

    Judges the shape only: a list of short items without sentence words. How many items
    there are, how long each is and whether they hold markup are rules for a keyword line,
    checked once it is taken as one, so a line that breaks them is reported, not kept as text.
    """
    body = _collapse(_TAG_RE.sub(", <>,", line))  # a tag is an item of its own, not prose
    if body.endswith(("!", "?", ":", "…", "”", '"')):
        return False
    body = body.rstrip(".")
    if re.search(r"(?<=[^\W\d_]{2})[.!?]\s+\S", body):  # more than one sentence
        return False
    items = [item.strip() for item in re.split(r"[,;]", body)]
    items = [item for item in items if item]
    if len(items) < 3 or any(len(item.split()) > 8 for item in items):
        return False
    if any(item.split()[0].casefold() in _CONJUNCTIONS for item in items[1:]):
        return False  # "…, brave, and beautiful" is a sentence's Oxford comma, not a keyword
    folded_title = _fold(title)
    wordy = 0
    for item in items:
        folded = _fold(item).replace(folded_title, " ") if folded_title else _fold(item)
        if _SENTENCE_WORDS & set(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", folded)):
            wordy += 1
    return wordy * 3 <= len(items)


def _take_keywords(
    sections: _Sections,
    keyword_lines: list[str],
    title: str,
    subject: str,
    warnings: list[str],
) -> list[str]:
    """Use the labelled keyword lines, or else take an unlabelled one off the end."""
    if not keyword_lines and sections.last:
        paragraphs = sections.paragraphs[sections.last]
        if _looks_like_keywords(paragraphs[-1], title):
            keyword_lines.append(paragraphs.pop())
    for line in keyword_lines:
        if markup := _MARKUP_RE.search(line):
            raise DocumentError(
                f"{subject} has HTML markup (“{_excerpt(line[markup.start() :], 30)}”) in its "
                "keyword line. Keywords are plain text separated by commas: remove the markup "
                "and import it again."
            )
    keywords = _dedupe([kw for line in keyword_lines for kw in _split_keywords(line)])
    if len(keywords) > MAX_KEYWORDS:
        raise DocumentError(
            f"{subject} has {len(keywords):,} keywords; a review may have at most "
            f"{MAX_KEYWORDS}. Keep the ones that matter most and import it again."
        )
    for keyword in keywords:
        if len(keyword) > MAX_KEYWORD_LENGTH:
            raise DocumentError(
                f"{subject} has a keyword of {len(keyword):,} characters "
                f"(“{_excerpt(keyword, 40)}”); a keyword may have at most "
                f"{MAX_KEYWORD_LENGTH}. Shorten it and import it again."
            )
    if not keywords:
        warnings.append("No keyword line found at the end of the document.")
    return keywords


# --- Availability -----------------------------------------------------------------------------

_SERVICES = {
    "Criterion Channel": ["criterion channel", "criterion"],
    "Amazon Prime Video": [
        "amazon prime video", "prime video", "amazon prime", "prime", "amazon video", "amazon",
    ],
    "iTunes": ["itunes", "apple itunes"],
    "Apple TV": ["apple tv", "apple tv app", "apple"],
    "Apple TV+": ["apple tv+", "apple tv plus"],
    "Google Play": ["google play", "google play movies", "google play movies & tv", "google"],
    "Google TV": ["google tv"],
    "YouTube": ["youtube", "youtube movies"],
    "Netflix": ["netflix"],
    "Max": ["max"],
    "HBO Max": ["hbo max"],
    "Hulu": ["hulu"],
    "Disney+": ["disney+", "disney plus"],
    "Paramount+": ["paramount+", "paramount plus"],
    "Peacock": ["peacock"],
    "MUBI": ["mubi"],
    "Kanopy": ["kanopy"],
    "Hoopla": ["hoopla"],
    "Tubi": ["tubi", "tubi tv"],
    "Pluto TV": ["pluto tv", "pluto"],
    "Roku Channel": ["roku channel", "roku"],
    "Freevee": ["freevee", "amazon freevee"],
    "Crackle": ["crackle"],
    "Plex": ["plex"],
    "Vudu": ["vudu"],
    "Fandango at Home": ["fandango at home"],
    "Microsoft Store": ["microsoft store"],
    "Redbox": ["redbox"],
    "Shudder": ["shudder"],
    "Starz": ["starz"],
    "Showtime": ["showtime"],
    "AMC+": ["amc+", "amc plus"],
    "MGM+": ["mgm+", "mgm plus"],
    "Sundance Now": ["sundance now"],
    "BritBox": ["britbox"],
    "Acorn TV": ["acorn tv"],
    "BFI Player": ["bfi player"],
    "BBC iPlayer": ["bbc iplayer", "iplayer"],
    "Fubo": ["fubo", "fubotv"],
    "Sling TV": ["sling tv", "sling"],
    "Philo": ["philo"],
    "Crunchyroll": ["crunchyroll"],
    "Ovid": ["ovid"],
    "Fandor": ["fandor"],
    "Film Movement Plus": ["film movement plus"],
    "Night Flight Plus": ["night flight plus"],
}  # fmt: skip
_PHYSICAL_MEDIA_RE = re.compile(
    r"\b(?:blu-?\s?rays?|dvds?|4k\s+uhd|uhd\s+disc|vhs|laserdiscs?|physical\s+media)\b",
    re.IGNORECASE,
)

_OFFER_TOKEN_RE = re.compile(r"[^\s,;()/&]+|[,;()/&]")
_LIST_SEPARATORS = {",", "and", "or", "&", "/"}
_PREPOSITIONS = {"on", "via", "through", "at", "from", "with", "to", "in", "including", "like"}
_ADS_WORDS = {"ads", "ad", "ad-supported", "advertising", "adverts", "commercials", "avod"}
_FREE_WORDS = {"free", "freely"}
_SUBSCRIPTION_WORDS = {"subscription", "subscribers", "streaming", "stream", "included", "svod"}
_RENT_WORDS = {"rent", "rental", "rentals", "rented", "renting", "rentable", "tvod"}
_BUY_WORDS = _words(
    """
    buy buying bought purchase purchased purchasing purchasable own
    """
)
_LEAD_WORDS = (
    _PREPOSITIONS
    | _ADS_WORDS
    | _FREE_WORDS
    | _RENT_WORDS
    | _BUY_WORDS
    | _words(
        """
        available availability also currently now presently streaming stream streams
        streamable watch watchable digital digitally included include includes subscription
        subscriptions subscriber subscribers subscribe member members membership svod vod
        demand on-demand for or and the a an it it's is are can be as well not you your its
        there here this hd sd 4k us u.s uk usa worldwide select some most many
        regions region countries country platforms platform services service major other
        various both either too only exclusively plus store stores store's
        """
    )
)
_NOT_STREAMING_RE = re.compile(
    r"(?:\bnot|n't)\s+(?:(?:currently|presently|yet|now|available|anywhere|on|any)\s+)*"
    r"(?:stream\w*|available)\b"
    r"(?:\s+(?:to|for)\s+stream\w*)?"
    r"(?:\s+(?:anywhere|currently|at\s+the\s+moment|right\s+now|at\s+present"
    r"|on\s+any\s+(?:streaming\s+)?(?:service|platform)s?|(?:service|platform)s?))*"
    r"|\bunavailable\b(?:\s+(?:to|for)\s+stream\w*)?"
    r"|\bno\s+(?:\w+\s+){0,2}?streaming(?:\s+(?:options?|services?|availability))?\b",
    re.IGNORECASE,
)


def _service_aliases() -> tuple[dict[tuple[str, ...], str], int]:
    aliases = {}
    for display, spellings in _SERVICES.items():
        for spelling in spellings:
            aliases[tuple(_OFFER_TOKEN_RE.findall(spelling))] = display
    return aliases, max(len(key) for key in aliases)


_ALIASES, _LONGEST_ALIAS = _service_aliases()


def _name_like(token: str) -> bool:
    if token.casefold() in _LEAD_WORDS or token in _LIST_SEPARATORS:
        return False
    return token[0].isupper() or token[0].isdigit() or any(ch.isupper() for ch in token[1:])


def _match_service(tokens: list[str], start: int, generic: bool) -> tuple[str, int] | None:
    """Return (display name, index after it) for a service name beginning at ``start``."""
    index = start
    if index < len(tokens) - 1 and tokens[index].casefold() == "the":
        index += 1
    # "max", "prime", "apple" in running lowercase text are words, not services.
    alias_allowed = generic or (index < len(tokens) and not tokens[index].islower())
    for length in range(min(_LONGEST_ALIAS, len(tokens) - index), 0, -1):
        key = tuple(token.casefold() for token in tokens[index : index + length])
        if key in _ALIASES and alias_allowed:
            end = index + length
            following = tokens[end].casefold() if end < len(tokens) else ""
            if following and _name_like(tokens[end]):
                break  # a longer, unknown name: take it as written below
            if tokens[index].islower() and following.isalpha() and following not in _LEAD_WORDS:
                continue  # "in max quality"
            return _ALIASES[key], end
    if not generic or index >= len(tokens) or not _name_like(tokens[index]):
        return None
    end = index + 1
    while end < len(tokens) and (_name_like(tokens[end]) or tokens[end] == "+"):
        end += 1
    return " ".join(tokens[index:end]), end


def _classify(words: list[str]) -> tuple[list[str], bool]:
    """Offer types named by a lead-in such as "for rent or purchase on"; (types, explicit)."""
    folded = [word.casefold() for word in words]
    if any(word in _ADS_WORDS for word in folded):
        return ["ads"], True
    if any(word in _FREE_WORDS for word in folded):
        return ["free"], True
    found = []
    for word in folded:
        offer = "rent" if word in _RENT_WORDS else "buy" if word in _BUY_WORDS else None
        if offer and offer not in found:
            found.append(offer)
    if found:
        return found, True
    return ["subscription"], False


@dataclass
class _OfferGroup:
    types: list[str]
    explicit: bool
    services: list[tuple[str, list[str] | None]] = field(default_factory=list)


def _tokenise_offers(clause: str) -> list[str]:
    tokens = []
    for token in _OFFER_TOKEN_RE.findall(clause):
        token = token.strip(_QUOTES).rstrip(".!?:")
        if token:
            tokens.append(token)
    return tokens


def _parse_clause(clause: str, warnings: list[str]) -> list[_OfferGroup]:
    tokens = _tokenise_offers(clause)
    # A bare list ("Netflix, Hulu") has no lead-in; otherwise an unknown capitalised word
    # only counts as a service right after a preposition ("on Foo").
    bare_list = all(
        _name_like(t) or t in _LIST_SEPARATORS or t in "()" or t.casefold() in _LEAD_WORDS
        for t in tokens
    )
    groups: list[_OfferGroup] = []
    lead: list[str] = []
    last_lead_word = ""  # ignoring "the", so "on the Criterion Channel" still counts
    index = 0
    while index < len(tokens):
        generic = bare_list or last_lead_word in _PREPOSITIONS
        match = _match_service(tokens, index, generic)
        if match is None:
            lead.append(tokens[index])
            if tokens[index].casefold() != "the":
                last_lead_word = tokens[index].casefold()
            index += 1
            continue
        types, explicit = _classify(lead)
        group = _OfferGroup(types, explicit)
        lead = []
        while match is not None:
            name, index = match
            override = None
            if index < len(tokens) and tokens[index] == "(":
                closing = index + 1
                while closing < len(tokens) and tokens[closing] != ")":
                    closing += 1
                inner = tokens[index + 1 : closing]
                inner_types, inner_explicit = _classify(inner)
                if inner_explicit or _SUBSCRIPTION_WORDS.intersection(map(str.casefold, inner)):
                    override = inner_types  # "(subscription)", "(rent/buy)"; not "(US)"
                index = closing + 1
            group.services.append((name, override))
            separators = []
            while index < len(tokens) and tokens[index].casefold() in _LIST_SEPARATORS:
                separators.append(tokens[index])
                index += 1
            match = _match_service(tokens, index, True) if separators else None
            if match is None:
                lead = separators
                last_lead_word = separators[-1].casefold() if separators else ""
        overrides = [override for _, override in group.services]
        if len(overrides) > 1 and overrides[-1] and not any(overrides[:-1]):
            # "Amazon Prime Video, iTunes and Google Play (rent or buy)" qualifies the list.
            group.types, group.explicit = overrides[-1], True
            group.services = [(name, None) for name, _ in group.services]
        groups.append(group)

    leftover = [t for t in lead if t not in _LIST_SEPARATORS]
    if leftover:
        types, explicit = _classify(leftover)
        if groups and explicit and not groups[-1].explicit:
            # "Amazon Prime Video for rent": the qualifier comes after the list.
            groups[-1].types, groups[-1].explicit = types, True
        elif any(t.casefold() not in _LEAD_WORDS for t in leftover):
            if groups:
                ignored = _excerpt(" ".join(leftover), 80)
                warnings.append(f"Ignored “{ignored}” in the streaming services line.")
            else:
                warnings.append(
                    f"Could not understand “{_excerpt(clause, 80)}” in the streaming services "
                    "line; no offers were taken from it."
                )
    return groups


def _parse_availability(text: str, warnings: list[str]) -> tuple[list[ParsedOffer], bool]:
    if not text:
        return [], False
    sentence = _collapse(text).replace("’", "'").replace("‘", "'").strip().rstrip(".")
    not_streaming = False
    offers: dict[ParsedOffer, None] = {}  # an ordered set
    warnings_before = len(warnings)
    clauses = re.split(r"\s*(?:;|[.!?]\s+|\s[–—]\s|,?\s+but\s+|,?\s+however,?\s+)\s*", sentence)
    for clause in clauses:
        match = _NOT_STREAMING_RE.search(clause)
        if match:
            not_streaming = True
            clause = clause[: match.start()] + " " + clause[match.end() :]
        clause = clause.strip(" ,")
        if not clause:
            continue
        if _PHYSICAL_MEDIA_RE.search(clause):
            warnings.append(
                f"“{_excerpt(clause, 80)}” is about physical media, not streaming; ignored."
            )
            continue
        for group in _parse_clause(clause, warnings):
            for service, override in group.services:
                for offer_type in override or group.types:
                    offers[ParsedOffer(service, offer_type)] = None
    if not offers and not not_streaming and len(warnings) == warnings_before:
        warnings.append(f"No streaming offers found in “{_excerpt(sentence, 80)}”.")
    return list(offers), not_streaming


# --- Suggested credits ------------------------------------------------------------------------

_NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*\.?")
_PARTICLES = _words(
    """
    de da von van der le la di del bin du dos das den della des ter ten ibn
    """
)
_HONORIFICS = {"dr.", "mr.", "mrs.", "ms.", "st.", "jr.", "sr."}
_LEADING_WORDS = _words(
    """
    the a an this that these those his her their its our my your while when although though
    as in on at with and but or if additionally however meanwhile yet so also even here
    there both after before during since until unlike like for from by of to then now today
    once only still where what who why how it he she we they i you not no every each all
    some many most one first last later finally ultimately indeed overall together whereas
    because despite through against between among director actor actress actors
    cinematographer composer writer screenwriter editor producer star stars co-star starring
    legendary veteran newcomer soviet american british french italian german russian
    japanese oscar-winning award-winning acclaimed renowned celebrated famed great cast
    """
)
_NOT_PERSON_WORDS = _words(
    """
    war world union channel video prime play cinema cinemas film films movie movies festival
    award awards academy oscars studio studios pictures productions entertainment
    records company republic kingdom states empire army navy church university school
    college museum street road avenue city river island theatre theater prize palme
    criterion netflix itunes google amazon review synopsis conclusion criticisms part
    chapter episode season volume
    """
)

_ROLE_NOUNS = {
    "cinematography": "cinematographer",
    "camerawork": "cinematographer",
    "camera work": "cinematographer",
    "photography": "cinematographer",
    "lensing": "cinematographer",
    "score": "composer",
    "music": "composer",
    "soundtrack": "composer",
    "compositions": "composer",
    "screenplay": "writer",
    "script": "writer",
    "writing": "writer",
    "dialogue": "writer",
    "editing": "editor",
    "performance": "actor",
    "turn": "actor",
    "portrayal": "actor",
}
_BY_VERBS = {
    "cinematography": "cinematographer",
    "camerawork": "cinematographer",
    "camera work": "cinematographer",
    "photography": "cinematographer",
    "photographed": "cinematographer",
    "shot": "cinematographer",
    "lensed": "cinematographer",
    "score": "composer",
    "scored": "composer",
    "music": "composer",
    "composed": "composer",
    "soundtrack": "composer",
    "written": "writer",
    "screenplay": "writer",
    "script": "writer",
    "scripted": "writer",
    "penned": "writer",
    "edited": "editor",
    "editing": "editor",
    "produced": "producer",
    "played": "actor",
    "portrayed": "actor",
}
_ROLE_TITLES = {
    "cinematographer": "cinematographer",
    "director of photography": "cinematographer",
    "composer": "composer",
    "screenwriter": "writer",
    "scriptwriter": "writer",
    "writer": "writer",
    "co-writer": "writer",
    "editor": "editor",
    "film editor": "editor",
    "producer": "producer",
    "co-producer": "producer",
    "actor": "actor",
    "actress": "actor",
    "star": "actor",
    "co-star": "actor",
    "starring": "actor",
}


def _alternation(words) -> str:
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)
    )


_NOT_ADJECTIVES = r"(?!(?:and|or|but|the|a|an|of|in|on|with|to|is|was|are|were|by|for|as)\s)"
# "Sergei Urusevsky’s innovative cinematography": up to three describing words before the noun.
_POSSESSIVE_ROLE_RE = re.compile(
    rf"\s+(?:{_NOT_ADJECTIVES}[a-z][a-z-]*\s+){{0,3}}?({_alternation(_ROLE_NOUNS)})\b"
)
_BY_ROLE_RE = re.compile(
    rf"\b({_alternation(_BY_VERBS)})(?:\s+and\s+[a-z]+)?(?:\s+(?:is|was|are|were))?\s+by\s+$",
    re.IGNORECASE,
)
_ROLE_TITLE_ENDINGS = {title.rsplit(None, 1)[-1] for title in _ROLE_TITLES}
_TITLE_ROLE_RE = re.compile(rf"\b({_alternation(_ROLE_TITLES)})\s*,?\s+$", re.IGNORECASE)
_PAREN_ROLE_RE = re.compile(
    rf"\s*\(\s*({_alternation(set(_ROLE_NOUNS) | set(_ROLE_TITLES))})\s*\)", re.IGNORECASE
)
_AS_RE = re.compile(r",?\s+as\s+")
# Verb phrases after an actor's name; True when a character name must follow.
_ACTOR_AFTER = [
    (re.compile(r",?\s+as\s+(?:the\s+)?"), True),
    (
        re.compile(
            r"\s+(?:plays|played|portrays|portrayed|embodies|inhabits|(?:stars|starred|starring"
            r"|appears|appeared|co-stars|shines|excels)\s+as|(?:is|was)\s+cast\s+as)\s+"
            r"(?:the\s+role\s+of\s+)?"
        ),
        False,
    ),
    (
        re.compile(
            r"\s+(?:delivers|delivered|gives|gave|turns\s+in|puts\s+in|offers|brings)\s"
            r"[^.;:!?]{0,80}?\b(?:performance|turn|portrayal)\s+as\s+"
        ),
        True,
    ),
    (re.compile(r"\s+(?:takes\s+on|took\s+on|has|in)\s+the\s+(?:title\s+)?role\s+of\s+"), True),
]
_LIST_JOIN_RE = re.compile(r",\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_BEFORE_CHARACTER_RE = re.compile(r"[\s,(]*$")
_OPEN_BRACKET_BEFORE_RE = re.compile(r"\s*\(\s*$")
_OPEN_BRACKET_AFTER_RE = re.compile(r"\s*\(\s*(as\s+)?")
_CLOSE_BRACKET_RE = re.compile(r"\s*\)")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;]\s+)[\s\"'“‘(]*$")
_LOOKBEHIND = 80  # characters of context searched before a name; keeps long paragraphs linear


@dataclass(frozen=True)
class _Span:
    words: tuple[str, ...]
    start: int  # after leading sentence words ("As Boris" starts at "Boris")
    raw_start: int
    end: int  # just after the last letter of the name
    stop: int  # after a possessive "’s"
    possessive: bool

    @property
    def name(self) -> str:
        return " ".join(self.words)


def _capitalised(word: str) -> bool:
    return word[0].isupper()


def _is_possessive(word: str) -> bool:
    return len(word) > 2 and word[-1] == "s" and word[-2] in "’'"


def _ends_name(word: str) -> bool:
    is_initial = len(word) == 2 and word[1] == "."
    if _is_possessive(word):
        return True
    return word.endswith(".") and not is_initial and word.casefold() not in _HONORIFICS


def _name_spans(text: str) -> list[_Span]:
    """Runs of capitalised words ("Tatiana Samoilova", "Sergei Urusevsky’s") in a paragraph."""
    tokens = list(_NAME_TOKEN_RE.finditer(text))

    def joined(left: int, right: int) -> bool:
        gap = text[tokens[left].end() : tokens[right].start()]
        return 0 < len(gap) <= 2 and gap.isspace()

    spans = []
    i = 0
    while i < len(tokens):
        if not _capitalised(tokens[i].group()):
            i += 1
            continue
        j = i
        while not _ends_name(tokens[j].group()) and j + 1 < len(tokens) and joined(j, j + 1):
            following = tokens[j + 1].group()
            if _capitalised(following):
                j += 1
            elif (
                following in _PARTICLES
                and j + 2 < len(tokens)
                and joined(j + 1, j + 2)
                and _capitalised(tokens[j + 2].group())
            ):
                j += 2
            else:
                break
        head = text[max(0, tokens[i].start() - 4) : tokens[i].start()]
        sentence_start = tokens[i].start() < 4 or bool(_SENTENCE_START_RE.search(head))
        spans.append(_make_span(tokens[i : j + 1], sentence_start))
        i = j + 1
    return spans


def _make_span(tokens: list[re.Match], sentence_start: bool) -> _Span:
    words = [t.group() for t in tokens]
    last = words[-1]
    end = tokens[-1].end()
    if _is_possessive(last):
        words[-1], end = last[:-2], end - 2
    elif last.endswith(".") and not (len(last) == 2 or last.casefold() in _HONORIFICS):
        words[-1], end = last[:-1], end - 1
    first = 0
    while first < len(words) and words[first].casefold().rstrip(".") in _LEADING_WORDS:
        first += 1
    if (
        sentence_start
        and len(words) - first >= 3
        and len(words[first]) > 4
        and words[first].endswith(("ing", "ly", "ed"))
    ):
        first += 1  # "Watching Tatiana Samoilova…", "Sadly Aleksey Batalov…"
    return _Span(
        words=tuple(words[first:]),
        start=tokens[first].start() if first < len(tokens) else end,
        raw_start=tokens[0].start(),
        end=end,
        stop=tokens[-1].end(),
        possessive=_is_possessive(last),
    )


def _proper_words(words: tuple[str, ...]) -> list[str] | None:
    """The capitalised words of a name, or None if something in it is not a name."""
    proper = [w for w in words if w not in _PARTICLES]
    for word in proper:
        letters = word.rstrip(".")
        if not _capitalised(word) or (len(letters) > 1 and letters.isupper()):
            return None  # acronyms and numerals: USSR, WWII, TV, II
        if word.casefold() in _NOT_PERSON_WORDS or word.casefold() in _LEADING_WORDS:
            return None
    return proper


@dataclass
class _Hit:
    role: str
    character: str
    start: int  # evidence span in the paragraph
    end: int
    heads_list: bool = False  # "screenplay by X, Y and Z": Y and Z share the role


class _CreditFinder:
    """Collects credit suggestions from the prose, one paragraph at a time."""

    def __init__(self, *, title: str, directors: list[str]):
        self.title = _fold(title)
        self.excluded = {_fold(name) for name in directors} | {_fold(name) for name in _SERVICES}
        self.credits: list[SuggestedCredit] = []

    def person(self, span: _Span) -> str:
        proper = _proper_words(span.words)
        if proper is None or not 2 <= len(proper) <= 4:
            return ""
        folded = _fold(span.name)
        if folded in self.excluded or folded in self.title:
            return ""
        return span.name

    def character(self, span: _Span | None, person: str) -> str:
        if span is None:
            return ""
        proper = _proper_words(span.words)
        if proper is None or not 1 <= len(proper) <= 3:
            return ""
        folded = _fold(span.name)
        if folded in self.excluded or folded == _fold(person):
            return ""
        if len(proper) > 1 and folded in self.title:
            return ""  # "Cranes Are Flying (Letyat Zhuravli)" names the film, not a role
        return span.name

    def follows_title(self, text: str, position: int) -> bool:
        """True for "Nights of Cabiria (Le Notti di Cabiria)": an original title, not a cast."""
        head = text[max(0, position - len(self.title) - 4) : position]
        return bool(self.title) and _fold(head.rstrip().rstrip(_QUOTES)).endswith(self.title)

    def add(self, person: str, hit: _Hit, text: str) -> None:
        evidence = _excerpt(text[hit.start : hit.end], 120)
        for index, credit in enumerate(self.credits):
            if _fold(credit.person) == _fold(person) and credit.role == hit.role:
                if hit.character and not credit.character:
                    self.credits[index] = dataclasses.replace(
                        credit, character=hit.character, evidence=evidence
                    )
                return
        self.credits.append(SuggestedCredit(person, hit.role, hit.character, evidence))

    def scan(self, text: str) -> None:
        spans = _name_spans(text)
        by_start: dict[int, _Span] = {}
        for span in spans:
            by_start.setdefault(span.raw_start, span)
            by_start.setdefault(span.start, span)
        by_end = {span.end: span for span in spans}
        listed: _Hit | None = None
        for span in spans:
            person = self.person(span)
            if not person:
                listed = None
                continue
            hits = list(self.hits(text, span, person, by_start, by_end))
            if listed and _LIST_JOIN_RE.fullmatch(text, listed.end, span.start):
                hits.append(_Hit(listed.role, "", listed.start, span.stop, heads_list=True))
            listed = next((hit for hit in hits if hit.heads_list), None)
            for hit in hits:
                self.add(person, hit, text)

    def hits(self, text, span, person, by_start, by_end):
        """Yield each role the text around one name suggests for it."""
        offset = max(0, span.start - _LOOKBEHIND)
        before = text[offset : span.start]
        # Cheap tests of the word just before the name keep long documents fast.
        last_word = before.rstrip(" ,").rsplit(None, 1)[-1].casefold() if before.strip() else ""

        if span.possessive and (match := _POSSESSIVE_ROLE_RE.match(text, span.stop)):
            role = _ROLE_NOUNS[_collapse(match.group(1)).casefold()]
            hit = _Hit(role, "", span.start, match.end())
            if role == "actor" and (as_match := _AS_RE.match(text, match.end())):
                target = by_start.get(as_match.end())
                if character := self.character(target, person):
                    hit.character, hit.end = character, target.end
            yield hit

        if last_word == "by" and (match := _BY_ROLE_RE.search(before)):
            role = _BY_VERBS[_collapse(match.group(1)).casefold()]
            hit = _Hit(role, "", offset + match.start(), span.stop, heads_list=role != "actor")
            if role == "actor":
                # "Boris, played by Aleksey Batalov" / "Boris (played by Aleksey Batalov)"
                head = text[max(0, hit.start - _LOOKBEHIND) : hit.start]
                gap = len(head) - _BEFORE_CHARACTER_RE.search(head).start()
                target = by_end.get(hit.start - gap)
                if character := self.character(target, person):
                    hit.character, hit.start = character, target.start
            yield hit

        if last_word in _ROLE_TITLE_ENDINGS and (match := _TITLE_ROLE_RE.search(before)):
            role = _ROLE_TITLES[_collapse(match.group(1)).casefold()]
            yield _Hit(role, "", offset + match.start(), span.stop)

        if span.possessive:
            return

        if match := _PAREN_ROLE_RE.match(text, span.end):
            role_word = _collapse(match.group(1)).casefold()
            yield _Hit(
                _ROLE_NOUNS.get(role_word) or _ROLE_TITLES[role_word], "", span.start, match.end()
            )

        # "Veronika (Tatiana Samoilova)": the actor is in brackets after the character.
        opening = last_word.endswith("(") and _OPEN_BRACKET_BEFORE_RE.search(before)
        if opening and (closing := _CLOSE_BRACKET_RE.match(text, span.end)):
            target = by_end.get(offset + opening.start())
            character = self.character(target, person)
            if character and not self.follows_title(text, offset + opening.start()):
                yield _Hit("actor", character, target.start, closing.end())

        # "Tatiana Samoilova (Veronika)" or "Tatiana Samoilova (as Veronika)"
        if match := _OPEN_BRACKET_AFTER_RE.match(text, span.end):
            target = by_start.get(match.end())
            closing = target and _CLOSE_BRACKET_RE.match(text, target.end)
            if closing and (match.group(1) or len(_proper_words(target.words) or []) == 1):
                if character := self.character(target, person):
                    yield _Hit("actor", character, span.start, closing.end())

        for pattern, needs_character in _ACTOR_AFTER:
            if match := pattern.match(text, span.end):
                target = by_start.get(match.end())
                if character := self.character(target, person):
                    yield _Hit("actor", character, span.start, target.end)
                elif not needs_character:
                    yield _Hit("actor", "", span.start, match.end())
                break


def _suggest_credits(
    paragraphs: list[str], *, title: str, directors: list[str]
) -> list[SuggestedCredit]:
    finder = _CreditFinder(title=title, directors=directors)
    for paragraph in paragraphs:
        finder.scan(paragraph)
    return finder.credits
