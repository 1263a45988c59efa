"""Site search: one interface, two engines, and the snippets that show what matched.

``search_queryset(queryset, query, fields)`` narrows a queryset to the rows that match a
reader's query and, ranked, orders them best first (``search_rank``).

- PostgreSQL: full-text search on each model's stored ``search_vector`` (GIN-indexed, written
  by database triggers from the migrations, weighted: titles and names ``A``, standfirst ``B``,
  review sections ``C``), OR a pg_trgm word similarity on the titles and names, so that a
  misspelt name still matches. Rank: ``SearchRank`` plus the best similarity.
- SQLite: every word of the query must appear, case-insensitively and in any script, in one of
  the fields (LIKE for ASCII words, Python's ``re`` for others); rank: 2 per word found in a
  title or name, 1 per word found only elsewhere. No typo tolerance, no stemming.

films and reviews both use it (reviews may import films, never the other way).
"""

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Greatest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from films.sql import uses_postgres

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8  # each word is a condition on every field on SQLite
SNIPPET_LENGTH = 180
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"\w+")


def tidy_query(raw) -> str:
    """The query as shown back: control and direction characters (NUL included) out, spaces
    collapsed, at most 200 characters."""
    if not isinstance(raw, str):
        return ""
    # A lone surrogate (from %ED%A0%80) can be neither sent to the database nor shown.
    text = raw.encode("utf-8", "ignore").decode("utf-8")
    return " ".join(_CONTROL.sub(" ", text).split())[:MAX_QUERY_LENGTH].strip()


def clean_query(raw) -> str:
    """The query as searched: ``tidy_query()``, and empty when it has no letter or digit."""
    text = tidy_query(raw)
    return text if any(c.isalnum() for c in text) else ""


def fold(text: str) -> str:
    """Lower case without accents: how words are compared for highlighting."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(query: str) -> list[str]:
    return list(dict.fromkeys(fold(w) for w in _WORD.findall(query)))[:MAX_WORDS]


def search_query(query: str) -> SearchQuery:
    """Words as typed (titles, names) or as English stems (review text); web-search syntax:
    quotes for a phrase, ``-word`` to leave out, ``or``. It never raises on odd input."""
    return SearchQuery(query, config="simple", search_type="websearch") | SearchQuery(
        query, config="english", search_type="websearch"
    )


@dataclass(frozen=True)
class Related:
    """Names on related rows that count as the model's own secondary text (a film's director
    and cast): ``rows()`` gives the related rows, ``link`` their foreign key to the model and
    ``fields`` the names, each through a foreign key (``person__name``)."""

    rows: Callable[[], models.QuerySet]
    fields: tuple[str, ...]
    link: str = "film"

    def exists(self, condition: Callable[[str], Q]) -> Exists:
        rows = self.rows().filter(**{self.link: OuterRef("pk")})
        return Exists(rows.filter(reduce(or_, map(condition, self.fields))))

    def similar_ids(self, query: str, similar: Callable[[models.QuerySet, str], models.QuerySet]):
        """The model's ids whose related rows name someone like ``query``: one indexed lookup
        per name field, then the links of those few rows."""
        rows = self.rows()
        relation = self.fields[0].rsplit("__", 1)[0]
        target = rows.model._meta.get_field(relation).related_model
        names = [field.rsplit("__", 1)[1] for field in self.fields]
        matches = _union([similar(target.objects.all(), name) for name in names])
        return rows.filter(**{f"{relation}__in": matches}).values(self.link).order_by()


@dataclass(frozen=True)
class SearchFields:
    """What a model is searched on. ``primary``: its titles or names (typo-tolerant on
    PostgreSQL, ranked first); ``secondary``: its other text; ``related``: names on other rows."""

    primary: tuple[str, ...]
    secondary: tuple[str, ...] = ()
    related: Related | None = None
    vector: str = "search_vector"
    tie_break: tuple[str, ...] = field(default=("pk",))


def search_queryset(
    queryset: models.QuerySet, query: str, fields: SearchFields, *, ranked: bool = True
) -> models.QuerySet:
    """The rows of ``queryset`` matching ``query`` (already ``clean_query()``-ed); ranked, they
    carry ``search_rank`` and come best first. Nothing matches an empty query."""
    if not query:
        return queryset.none()
    if uses_postgres(queryset):
        return _postgres(queryset, query, fields, ranked=ranked)
    return _fallback(queryset, query, fields, ranked=ranked)


# Ranked, at most this many rows of each kind of match are ranked: a common word ("the")
# matches half the catalogue, and ranking it all costs a second for the same top ten.
RANKED_CANDIDATES = 200
# Typo tolerance (pg_trgm) is a second chance: only when the words as typed match fewer rows,
# and for queries long enough to misspell: the trigrams of "the" are in most names.
FEW_MATCHES = 20
TYPO_MIN_LENGTH = 4


def _union(querysets):
    return querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]


def _postgres(queryset, query, fields, *, ranked):
    tsquery = search_query(query)
    # Each kind of match is a query of its own, so that each uses its index (the stored vector's
    # GIN, a trigram GIN per name): an OR of them in one WHERE reads every row.
    rows = queryset.order_by().values("pk")
    limit = RANKED_CANDIDATES if ranked else None
    exact = rows.filter(**{fields.vector: tsquery})
    # A condition on no row: PostgreSQL tests it once (an InitPlan) and skips the trigram scans
    # when the words as typed are found often enough.
    few = ~Exists(exact[FEW_MATCHES - 1 : FEW_MATCHES])

    def similar(rows, name):
        # word_similarity(query, field) >= pg_trgm.word_similarity_threshold (0.6): ``%>``.
        return rows.filter(few, **{f"{name}__trigram_word_similar": query}).values("pk")[:limit]

    matches = [exact[:limit]]
    if sum(c.isalnum() for c in query) >= TYPO_MIN_LENGTH:
        matches += [similar(rows, name) for name in fields.primary]
        if fields.related:
            matches.append(fields.related.similar_ids(query, similar)[:limit])
    if not ranked and len(matches) == 1:
        # The words as typed, every row: the condition itself, which the planner can estimate
        # (an ``id IN (SELECT …)`` of the same table would read the rows twice).
        return queryset.filter(**{fields.vector: tsquery})
    queryset = queryset.filter(pk__in=_union(matches))
    if not ranked:
        return queryset
    similarities = [TrigramWordSimilarity(query, name) for name in fields.primary]
    best = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
    return queryset.annotate(search_rank=SearchRank(F(fields.vector), tsquery) + best).order_by(
        "-search_rank", *fields.tie_break
    )


def _fallback(queryset, query, fields, *, ranked):
    # As typed, bar case: the stored text is not folded, so "amelie" does not find "Amélie".
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:MAX_WORDS]
    if not words:
        return queryset.none()

    def contains(name: str, word: str) -> Q:
        # SQLite's LIKE (icontains) folds the case of ASCII letters only; its REGEXP is
        # Python's re, Unicode-aware but a call into Python per row: for other scripts alone.
        if word.isascii():
            return Q(**{f"{name}__icontains": word})
        return Q(**{f"{name}__iregex": re.escape(word)})

    def any_field(names: Iterable[str], word: str) -> Q:
        return reduce(or_, (contains(name, word) for name in names), Q(pk__in=[]))

    conditions, scores = [], []
    for word in words:
        in_primary = any_field(fields.primary, word)
        in_secondary = any_field(fields.secondary, word)
        if fields.related:
            in_secondary |= fields.related.exists(lambda name, word=word: contains(name, word))
        conditions.append(in_primary | in_secondary)
        scores.append(Case(When(in_primary, then=Value(2)), default=Value(1)))
    queryset = queryset.filter(reduce(and_, conditions))
    if not ranked:
        return queryset
    return queryset.annotate(search_rank=reduce(lambda a, b: a + b, scores)).order_by(
        "-search_rank", *fields.tie_break
    )


# Snippets ---------------------------------------------------------------------------------


@lru_cache(maxsize=8192)  # a review repeats its words: each is compared once
def _matches(token: str, words: tuple[str, ...]) -> bool:
    """A word of the text answers a query word: same start ("fly" / "flying"), a stem of it
    ("cranes" / "crane"), or a near spelling ("Kalatozov" / "kalatozof")."""
    token = fold(token)
    for word in words:
        if token.startswith(word) or (len(token) >= 4 and word.startswith(token)):
            return True
        if (
            len(word) >= 5
            and abs(len(token) - len(word)) <= 2
            and difflib.SequenceMatcher(None, token, word).ratio() >= 0.8
        ):
            return True
    return False


def highlight(text: str, query: str) -> SafeString:
    """``text``, escaped, with the words that answer the query in ``<mark>``."""
    words = tuple(query_words(query))
    parts, last = [], 0
    for match in _WORD.finditer(text):
        parts.append(escape(text[last : match.start()]))
        token = match.group()
        parts.append(
            f"<mark>{escape(token)}</mark>" if words and _matches(token, words) else escape(token)
        )
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece of the reader's or editor's text is escaped


def snippet(text: str, query: str, length: int = SNIPPET_LENGTH) -> SafeString | None:
    """About ``length`` characters of ``text`` around its first word that answers the query,
    highlighted; None if no word does."""
    words = tuple(query_words(query))
    text = " ".join(text.split())  # paragraphs become one line
    first = next((m for m in _WORD.finditer(text) if _matches(m.group(), words)), None)
    if first is None:
        return None
    start = max(0, first.start() - length // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", first.end(), end)
        end = space if space > 0 else end
    prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
    return mark_safe(f"{prefix}{highlight(text[start:end], query)}{suffix}")


def first_snippet(texts: Iterable[str], query: str, fallback: str = "") -> SafeString:
    """The snippet of the first of ``texts`` that answers the query, else ``fallback``'s start."""
    for text in texts:
        if text and (found := snippet(text, query)):
            return found
    short = " ".join(fallback.split())
    if len(short) > SNIPPET_LENGTH:
        short = short[:SNIPPET_LENGTH].rsplit(" ", 1)[0] + "…"
    return highlight(short, query)
