"""A synthetic catalogue for the benchmarks, in its own database, never the user's.

    .venv/bin/python bench/catalogue.py                      # 100,000 films on PostgreSQL
    .venv/bin/python bench/catalogue.py --engine sqlite --scale 0.1
    .venv/bin/python bench/catalogue.py --scale 10 --rebuild

Scale 1 is 100,000 films, 60,000 people, about 600,000 credits (directors, actors with their
characters and billing order, composers; a few people with very long filmographies), about
300,000 offers on 30 services (every offer type, regions GB and US, a sixth of them closed
history), 25 genres, 20,000 published reviews plus drafts, reviews in review, sent back,
scheduled, expired and unpublished, and keywords on films and reviews. The rows come from a
seeded random generator, so a scale always gives the same catalogue.

PostgreSQL: the database ``filmmag_bench_<films>`` on the server of DATABASE_URL (default
127.0.0.1:5432), created when missing; rows go in with COPY. SQLite: ``.bench/filmmag_bench_<films>
.sqlite3``, with executemany in one transaction per table. Either way the schema is migrated to
the migrations below, the rows are loaded, then the later migrations run, so a migration that
adds or backfills a column does it on the synthetic rows as on real ones. A table
``bench_catalogue`` records a finished build: a database that has one for the same scale and
builder version is reused (and migrated); ``--rebuild`` starts again.

Every row goes through the tables' triggers and constraints, as the app's own writes do: the
search vectors are written by the app's PostgreSQL triggers. Credits go in just before their
films, in one transaction, so that each film's vector is written once, from its credits.
"""

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
# Bumped when the generated rows change, so an older catalogue is rebuilt, not reused.
BUILDER_VERSION = 1  # the rows, not how they are loaded
FILMS_AT_SCALE_1 = 100_000
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# The schema the loader writes; later migrations run after the load (see the docstring).
LOAD_MIGRATIONS = {"films": "0010_updated_at", "reviews": "0011_search"}
MARKER = "bench_catalogue"
# What `make bench` measures: 100,000 films on PostgreSQL, 10,000 on SQLite.
DEFAULT_SCALE = {"postgresql": 1.0, "sqlite": 0.1}


@dataclass(frozen=True)
class Size:
    """How many of each row a scale asks for (credits and offers are about 6 and 3 a film)."""

    films: int
    people: int
    services: int
    genres: int
    reviews: int  # published and visible

    @classmethod
    def at(cls, scale: float) -> "Size":
        films = max(50, round(FILMS_AT_SCALE_1 * scale))
        return cls(
            films=films,
            people=max(60, films * 6 // 10),
            services=30,
            genres=25,
            reviews=max(10, films // 5),
        )


def database_url(
    engine: str, scale: float, *, server: str = "", name: str = "", folder: Path = BENCH_DIR
) -> str:
    """Where the catalogue of ``scale`` lives: its own database on ``server`` (DATABASE_URL's
    server, else 127.0.0.1) for PostgreSQL, a file in ``folder`` (.bench/) for SQLite."""
    name = name or f"filmmag_bench_{Size.at(scale).films}"
    if engine == "sqlite":
        return f"sqlite:///{Path(folder).resolve() / f'{name}.sqlite3'}"
    server = server or os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        server = DEFAULT_SERVER
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def configure(url: str) -> None:
    """Django's settings for a production-like run on ``url`` (before django.setup())."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "filmmag.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def say(message: str) -> None:
    print(message, flush=True)


# Server-level work on PostgreSQL, over a connection of its own to the maintenance database.
def _server(url: str, **options):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True, **options)


def _pg_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def postgresql_reachable() -> bool:
    """Whether the server the PostgreSQL catalogue would live on answers."""
    import psycopg

    try:
        _server(database_url("postgresql", 1.0), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def drop_database(url: str) -> None:
    """Remove a catalogue's database (the test suite's, or before a rebuild)."""
    if url.startswith("sqlite:"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    with _server(url) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{_pg_name(url)}" WITH (FORCE)')


def _create_database(url: str) -> None:
    if url.startswith("sqlite:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return
    with _server(url) as server:
        exists = server.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_pg_name(url)]
        ).fetchone()
        if not exists:
            server.execute(f'CREATE DATABASE "{_pg_name(url)}"')


def finished_build(scale: float) -> dict | None:
    """The marker of a complete catalogue of ``scale`` in the configured database, if any."""
    from django.db import connection

    if MARKER not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT films, version, seconds FROM {MARKER}")  # noqa: S608
        row = cursor.fetchone()
    if row is None or row[0] != Size.at(scale).films or row[1] != BUILDER_VERSION:
        return None
    return {"films": row[0], "seconds": row[2]}


def ensure(scale: float, *, rebuild: bool = False) -> dict:
    """Django configured on the catalogue of ``scale``; builds it unless a finished one is
    there. Returns the row counts. Call after configure() and django.setup()."""
    from django.core.management import call_command
    from django.db import connection

    url = os.environ["DATABASE_URL"]
    size = Size.at(scale)
    if not rebuild:
        _create_database(url)
        if finished_build(scale):
            say(f"Catalogue: reusing {describe(url)} ({size.films:,} films); migrating")
            call_command("migrate", verbosity=0, interactive=False)
            return counts()
    connection.close()
    drop_database(url)
    _create_database(url)
    say(f"Catalogue: building {size.films:,} films in {describe(url)}")
    began = time.perf_counter()
    for app, migration in LOAD_MIGRATIONS.items():
        call_command("migrate", app, migration, verbosity=0, interactive=False)
    say(f"  schema for the load migrated ({time.perf_counter() - began:.1f}s)")
    Loader(connection, size, began).load()
    call_command("migrate", verbosity=0, interactive=False)
    say(f"  later migrations applied ({time.perf_counter() - began:.1f}s)")
    # What the site keeps up to date on each save, which rows written in bulk skip.
    from films.counts import facet_counts_rebuild
    from reviews.models import film_review_keys_refresh_all

    film_review_keys_refresh_all()
    facet_counts_rebuild()
    say(f"  review sort keys and facet counts made ({time.perf_counter() - began:.1f}s)")
    # As autovacuum would leave a settled database: bulk-written rows (and the keys and counts
    # just updated) need a visibility map for index-only scans, and statistics for the planner.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER} (films integer, version integer, seconds real)")
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s)",  # noqa: S608
            [size.films, BUILDER_VERSION, seconds],
        )
    found = counts()
    say(f"Catalogue built in {seconds:.1f}s: " + ", ".join(f"{n:,} {t}" for t, n in found.items()))
    return found


def describe(url: str) -> str:
    if url.startswith("sqlite:"):
        return str(Path(url.removeprefix("sqlite:///")).relative_to(ROOT, walk_up=True))
    parts = urlsplit(url)
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{_pg_name(url)}"


def counts() -> dict[str, int]:
    from films.models import Availability, Credit, Film, Genre, Person, StreamingService
    from reviews.models import Review

    return {
        "films": Film.objects.count(),
        "people": Person.objects.count(),
        "credits": Credit.objects.count(),
        "offers": Availability.objects.count(),
        "current offers": Availability.objects.current().count(),
        "services": StreamingService.objects.count(),
        "genres": Genre.objects.count(),
        "published reviews": Review.objects.published().count(),
        "reviews": Review.objects.count(),
    }


# Words the rows are made of.
ADJECTIVES = (
    "Silent Last Red Hidden Broken Golden Distant Quiet Burning Cold Lost Secret Wild Pale "
    "Bitter Electric Endless Hollow Northern Crimson Little Long Dark Bright Strange Summer "
    "Winter Midnight Velvet Iron Glass Paper Savage Gentle Lonely Restless Sweet Black White "
    "Blue Green Empty Final Fallen Sleeping Falling Rising Invisible Naked Eternal Fading"
).split()
NOUNS = (
    "River City Night House Garden Road Mirror Station Harbour Mountain Forest Island Letter "
    "Window Shadow Dream Song Storm Train Bridge Tower Border Stranger Daughter Son Mother "
    "Father Sister Brother Hunter Soldier Thief Dancer Witness Angel Ghost Wolf Horse Bird "
    "Heart Fire Water Stone Moon Sun Star Sea Rain Snow Summer Silence Promise Return Journey "
    "Season Winter Crossing Kingdom Empire Republic Village Valley Desert Coast Field Machine"
).split()
PLACES = (
    "Paris Tokyo Berlin Lagos Lima Kyiv Seoul Cairo Oslo Rome Havana Tbilisi Dakar Mumbai "
    "Tehran Warsaw Lisbon Manila Istanbul Montréal São Paulo Reykjavík Kraków Zürich"
).split()
FIRST_NAMES = (
    "Anna Boris Chloé Dmitri Elena Farid Greta Hiro Ines Jonas Kofi Lena Mikhail Nadia Omar "
    "Paulo Queenie Rosa Sven Tatiana Umar Vera Wim Xavier Yuki Zofia Agnès Bruno Carmen Dario "
    "Emma Fatima Gabriel Hanna Ivan Jean Kasia Luis Maya Nikolai Olga Pedro Rania Sofia Tomás "
    "Ulla Viktor Wanda Yusuf Zainab Aki Bette Cyril Delphine Ennio Federico Gena Harun Ingrid "
    "Jiří Kenji Liv Marcello Nuri Orson Pina Ruth Satyajit Toshiro Ugo Věra Wong Yasujirō "
    "Abbas Béla Claire Dorota Ebrahim Fritz Giulietta Hou Isabelle Jafar Krzysztof Lucrecia "
    "Mati Naomi Ousmane Pier Ramón Sergei Theo Ulrike Valeria Werner Youssef Zhang Alice Ben"
).split()
LAST_NAMES = (
    "Abe Bergman Costa Dreyer Ekberg Fellini Godard Hara Ivens Jarman Kurosawa Lang Melville "
    "Naruse Ozu Pasolini Quay Rossellini Sembène Tarkovsky Ullmann Varda Wajda Yang Zanussi "
    "Akerman Bresson Cassavetes Demy Erice Fassbinder Gerwig Herzog Imamura Jancsó Kieślowski "
    "Lynch Mizoguchi Nolan Oshima Ophüls Panahi Resnais Rohmer Sokurov Tati Truffaut Vigo "
    "Weerasethakul Yimou Zhangke Antonioni Buñuel Chahine Denis Eisenstein Forman Güney Haneke "
    "Ivory Jodorowsky Kiarostami Leigh Makhmalbaf Nichols Olmi Parajanov Ray Rivette Satō "
    "Schlöndorff Tarr Ulmer Visconti Wenders Yates Żuławski Almodóvar Bertolucci Chabrol "
    "Dardenne Egoyan Ferrara Greenaway Hitchcock Ikeda Jia Kaurismäki Loach Malick Noé Ozon "
    "Petzold Reichardt Saura Tanović Urusevsky Vinterberg Wiseman Yoshida Zvyagintsev Aldrich "
    "Borzage Capra Dassin Edwards Fuller Griffith Hawks Ince Jewison Kazan Lubitsch Mann Nair"
).split()
CYRILLIC = "Михаил Калатозов Татьяна Самойлова Андрей Тарковский Лариса Шепитько Сергей".split()
CJK = "黒澤 明 小津 安二郎 溝口 健二 王 家衛 侯 孝賢 張 藝謀 李 滄東 是枝 裕和".split()
CHARACTER_TITLES = ["", "", "", "Detective ", "Doctor ", "Captain ", "Mrs. ", "Uncle ", "Young "]
GENRES = (
    "Drama|War|Romance|Comedy|Thriller|Horror|Documentary|Western|Animation|Science Fiction|"
    "Crime|Musical|Mystery|Adventure|Fantasy|Family|History|Biography|Music|Sport|Film Noir|"
    "Short|Experimental|Silent|Action"
).split("|")
SERVICES = (
    "Criterion Channel|Mubi|Max|Netflix|Apple TV|Prime Video|Kanopy|Tubi|BFI Player|Curzon Home "
    "Cinema|Disney+|Paramount+|Peacock|Hulu|Pluto TV|Freevee|Plex|Shudder|Fandor|Sundance Now|"
    "OVID|Hoopla|Google TV|Vudu|Rakuten TV|Sky Store|ITVX|BBC iPlayer|Channel 4|Arrow"
).split("|")
OFFER_TYPES = ["subscription"] * 4 + ["rent"] * 2 + ["buy"] * 2 + ["free", "ads"]
REGIONS = ["GB", "US"]
COUNTRIES = ["US", "GB", "FR", "DE", "IT", "JP", "KR", "IN", "RU", "SE", "PL", "IR", "NG", "BR"]
LANGUAGES = ["English", "French", "German", "Italian", "Japanese", "Korean", "Hindi", "Russian"]
KEYWORDS = (
    "slow cinema|road movie|coming of age|noir|heist|revenge|family|war|memory|exile|"
    "first feature|restoration|black and white|silent era|new wave|debut|adaptation|remake|"
    "festival|Cannes|Berlinale|Venice|cult|midnight movie|comfort watch|city symphony|"
    "immigration|labour|childhood|grief|ghosts|trains|water|snow|music|dance|politics|"
    "l'amour fou|cinéma vérité|Kinder|кино|映画|ciné-club|über-kitsch|çok güzel|"
    "femme fatale|shot on film|long take|handheld|widescreen|Academy ratio|animation"
).split("|")
SENTENCES = [
    "The camera lingers on faces longer than comfort allows.",
    "Every scene is built around a single, patient gesture.",
    "What begins as a thriller turns slowly into an elegy.",
    "The score does more work than the dialogue, and knows it.",
    "Its last twenty minutes justify everything that came before.",
    "The performances are loose, generous and unforced.",
    "A city becomes a character, then a ghost.",
    "The editing is brisk where the story is not.",
    "It is funnier than its reputation suggests.",
    "The film never quite decides whom it is about.",
    "Colour is used sparingly, and to devastating effect.",
    "There is a wedding, a funeral and a train that never arrives.",
    "Few debuts have looked this assured.",
    "The middle act sags under the weight of its subplots.",
    "It rewards a second viewing more than most.",
]
HEADLINE_PHRASES = [
    "a quiet masterpiece", "the long way home", "beautiful and cruel", "worth the wait",
    "lost in the city", "a fever dream", "less than the sum of its parts", "still astonishing",
    "an overlooked gem", "the last picture", "a hard watch", "pure cinema", "restored at last",
]  # fmt: skip
BYLINES = [f"{a} {b}" for a in FIRST_NAMES[:8] for b in LAST_NAMES[:5]]


class Loader:
    """Writes the rows of one ``Size`` through the configured Django connection."""

    def __init__(self, connection, size: Size, began: float, seed: int = 1957):
        self.connection = connection
        self.size = size
        self.began = began
        self.seed = seed
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.postgresql = connection.vendor == "postgresql"

    def generator(self, table: str) -> random.Random:
        """A generator per table, so that each gets the same rows whatever the load order."""
        return random.Random(f"{self.seed}:{table}")

    # Writing ----------------------------------------------------------------------------
    def write(self, table: str, columns: list[str], rows) -> int:
        """Bulk insert, with the tables' triggers and constraints: COPY on PostgreSQL,
        executemany in one transaction on SQLite."""
        quoted = ", ".join(f'"{c}"' for c in columns)
        written = 0
        if self.postgresql:
            with (
                self.connection.cursor() as wrapper,
                wrapper.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    written += 1
        else:
            insert = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' for _ in columns)})"
            from django.db import transaction

            with transaction.atomic(using=self.connection.alias):
                raw = self.connection.connection
                batch = []
                for row in rows:
                    batch.append(tuple(self._sqlite(value) for value in row))
                    if len(batch) >= 50_000:
                        raw.executemany(insert, batch)
                        written, batch = written + len(batch), []
                raw.executemany(insert, batch)
                written += len(batch)
        say(f"  {written:>9,} {table:<26} ({time.perf_counter() - self.began:.1f}s)")
        return written

    @staticmethod
    def _sqlite(value):
        # As Django stores them on SQLite: UTC datetimes as text, booleans as integers.
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def reset_sequences(self, tables: list[str]) -> None:
        if not self.postgresql:
            return  # SQLite's AUTOINCREMENT follows explicit ids
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )

    # Rows -------------------------------------------------------------------------------
    def load(self) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction

        from films.slugs import slug_base

        self.slug_base = slug_base
        self._slugs: dict[str, set[str]] = {}
        if self.postgresql:
            with self.connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
        genres = self.genres()
        services = self.services()
        people, directors, composers, actors, prolific = self.people()
        years = self.generator("years")
        self.film_years = [years.randint(1915, 2026) for _ in range(self.size.films)]
        # Credits before their films, in one transaction (the foreign keys are checked at
        # commit): each film's insert trigger then writes its search vector from its director
        # and cast (PostgreSQL), and each credit's trigger finds no film to touch yet.
        with transaction.atomic(using=self.connection.alias):
            self.credits(directors, composers, actors, prolific)
            self.films()
        self.film_genres(genres)
        self.offers(services)
        self.reviews()
        film_type = ContentType.objects.get(app_label="films", model="film").pk
        review_type = ContentType.objects.get(app_label="reviews", model="review").pk
        self.keywords(film_type, review_type)
        self.reset_sequences(
            [
                "films_genre",
                "films_streamingservice",
                "films_person",
                "films_credit",
                "films_film",
                "films_film_genres",
                "films_availability",
                "reviews_review",
                "taggit_tag",
                "taggit_taggeditem",
            ]
        )
        del people

    def unique_slug(self, kind: str, text: str) -> str:
        taken = self._slugs.setdefault(kind, set())
        base = self.slug_base(text, kind=kind)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        return slug

    def genres(self) -> list[int]:
        names = GENRES[: self.size.genres]
        self.write(
            "films_genre",
            ["id", "name", "slug", "updated_at"],
            ((i, n, self.unique_slug("genre", n), self.now) for i, n in enumerate(names, 1)),
        )
        return list(range(1, len(names) + 1))

    def services(self) -> list[int]:
        names = SERVICES[: self.size.services]
        self.write(
            "films_streamingservice",
            ["id", "name", "slug", "website", "logo", "logo_alt", "logo_renditions", "updated_at"],
            (
                (
                    i,
                    name,
                    slug := self.unique_slug("service", name),
                    f"https://{slug}.example/",
                    "",
                    "",
                    "{}",
                    self.now,
                )
                for i, name in enumerate(names, 1)
            ),
        )
        return list(range(1, len(names) + 1))

    def people(self):
        rng, count = self.generator("people"), self.size.people
        names = [f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES]
        rng.shuffle(names)

        def name(i: int) -> tuple[str, str]:
            base = names[i % len(names)]
            if i >= len(names):
                base = f"{base} {chr(ord('A') + (i // len(names)) % 26)}."
            original = ""
            if i % 23 == 0:
                original = f"{rng.choice(CYRILLIC)} {rng.choice(CYRILLIC)}"
            elif i % 29 == 0:
                original = f"{rng.choice(CJK)}{rng.choice(CJK)}"
            if i % 997 == 0:
                base = f"{base} " + "von und zu " * 15  # a 200-character name
                base = base[:200].strip()
            return base, original

        def rows():
            for i in range(1, count + 1):
                full, original = name(i)
                born = rng.randint(1880, 2005)
                died = born + rng.randint(30, 95) if born < 1950 and rng.random() < 0.6 else None
                yield (
                    i,
                    full,
                    self.unique_slug("person", full),
                    original,
                    born,
                    died if died is None or died <= 2026 else None,
                    "",
                    "",
                    "",
                    "",
                    50,
                    50,
                    "{}",
                    self.now,
                )

        columns = [
            "id", "name", "slug", "original_name", "birth_year", "death_year", "bio",
            "portrait", "portrait_alt", "portrait_credit", "portrait_focal_x",
            "portrait_focal_y", "portrait_renditions", "updated_at",
        ]  # fmt: skip
        self.write("films_person", columns, rows())
        ids = list(range(1, count + 1))
        # A quarter of the people direct (a few hundreds of films each at most), a twentieth
        # compose, the rest act; the first five actors are in about one film in 125.
        directors = ids[: count // 4]
        composers = ids[count // 4 : count // 4 + count // 20]
        actors = ids[count // 4 + count // 20 :]
        return ids, directors, composers, actors, actors[:5]

    def credits(self, directors, composers, actors, prolific) -> None:
        rng = self.generator("credits")

        def skewed(pool: list[int]) -> int:
            # Squaring a uniform number favours the start of the pool: long filmographies
            # for some, one credit for many.
            return pool[int(len(pool) * rng.random() ** 1.5)]

        def rows():
            credit = 0
            for film in range(1, self.size.films + 1):
                chosen = {skewed(directors)}
                if rng.random() < 0.05:
                    chosen.add(skewed(directors))
                for n, person in enumerate(sorted(chosen)):
                    credit += 1
                    yield credit, film, person, "director", "", n
                cast: list[int] = []
                if rng.random() < 0.04:
                    cast.append(rng.choice(prolific))
                wanted = rng.choice((2, 3, 4, 4, 4, 5, 5, 6))
                while len(cast) < wanted:
                    person = skewed(actors)
                    if person not in cast:
                        cast.append(person)
                for n, person in enumerate(cast):
                    credit += 1
                    first = FIRST_NAMES[(film * 7 + n) % len(FIRST_NAMES)]
                    character = f"{rng.choice(CHARACTER_TITLES)}{first}"
                    yield credit, film, person, "actor", character, n
                if rng.random() < 0.8:
                    credit += 1
                    yield credit, film, skewed(composers), "composer", "", 0

        columns = ["id", "film_id", "person_id", "role", "character", "order"]
        self.write("films_credit", columns, rows())

    def title(self, i: int, rng: random.Random) -> tuple[str, str]:
        adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        pattern = i % 9
        if pattern in (0, 1, 2):
            title = f"The {adjective} {noun}"
        elif pattern == 3:
            title = f"{noun} of the {rng.choice(NOUNS)}"
        elif pattern == 4:
            title = f"A {noun} in {rng.choice(PLACES)}"
        elif pattern == 5:
            title = f"{adjective} {noun}s"
        elif pattern == 6:
            title = f"{noun} {rng.randint(2, 9)}"
        elif pattern == 7:
            title = f"{rng.choice(PLACES)}, {adjective}"
        else:
            title = f"{adjective} {noun}"
        original = ""
        if i % 31 == 0:
            original = " ".join(rng.sample(CYRILLIC, 2))
        elif i % 37 == 0:
            original = "".join(rng.sample(CJK, 3))
        elif i % 1009 == 0:
            title = f"{title} 🎬"
        if i % 4999 == 0:
            title = (title + ", or " + " and ".join(rng.sample(NOUNS, 30)))[:200]
        return title, original

    def films(self) -> None:
        rng = self.generator("films")
        self.film_titles: list[str] = []

        def rows():
            for i in range(1, self.size.films + 1):
                title, original = self.title(i, rng)
                self.film_titles.append(title)
                year = self.film_years[i - 1]
                released = date(year, rng.randint(1, 12), rng.randint(1, 28))
                countries = ",".join(sorted(set(rng.sample(COUNTRIES, rng.choice((1, 1, 2, 3))))))
                yield (
                    i,
                    title,
                    self.unique_slug("film", f"{title} {year}"),
                    original,
                    released if rng.random() < 0.7 else None,
                    year,
                    rng.randint(62, 210) if rng.random() < 0.95 else None,
                    countries,
                    rng.choice(LANGUAGES),
                    f"{rng.choice(SENTENCES)} {rng.choice(SENTENCES)}",
                    "",
                    "",
                    "",
                    50,
                    50,
                    "{}",
                    1,
                    self.now - timedelta(days=rng.randint(0, 3000)),
                    self.now - timedelta(minutes=rng.randint(0, 500_000)),
                )

        columns = [
            "id", "title", "slug", "original_title", "release_date", "year", "runtime",
            "countries", "original_language", "logline", "poster", "poster_alt",
            "poster_credit", "poster_focal_x", "poster_focal_y", "poster_renditions",
            "version", "created_at", "updated_at",
        ]  # fmt: skip
        self.write("films_film", columns, rows())

    def film_genres(self, genres: list[int]) -> None:
        rng = self.generator("genres")

        def rows():
            link = 0
            # The first genres are the common ones (Drama, War, Romance...).
            weights = [1 / (n + 2) for n in range(len(genres))]
            for film in range(1, self.size.films + 1):
                chosen = set(rng.choices(genres, weights, k=rng.choice((1, 2, 2, 3))))
                for genre in sorted(chosen):
                    link += 1
                    yield link, film, genre

        self.write("films_film_genres", ["id", "film_id", "genre_id"], rows())

    def offers(self, services: list[int]) -> None:
        rng = self.generator("offers")
        weights = [1 / (n + 3) for n in range(len(services))]

        def rows():
            offer = 0
            for film in range(1, self.size.films + 1):
                wanted = rng.choice((0, 1, 2, 3, 3, 4, 4, 5, 6))
                seen = set()
                for _ in range(wanted):
                    key = (
                        rng.choices(services, weights)[0],
                        rng.choice(OFFER_TYPES),
                        rng.choice(REGIONS),
                    )
                    if key in seen:
                        continue
                    seen.add(key)
                    service, offer_type, region = key
                    closed = rng.random() < 0.17
                    if rng.random() < 0.04:  # arrived in the last fortnight: "New on"
                        first_seen = self.today - timedelta(days=rng.randint(0, 14))
                    else:
                        first_seen = self.today - timedelta(days=rng.randint(15, 1500))
                    ended = None
                    if closed:
                        ended = first_seen + timedelta(
                            days=rng.randint(0, (self.today - first_seen).days)
                        )
                    last_checked = ended or first_seen + timedelta(
                        days=rng.randint(0, (self.today - first_seen).days)
                    )
                    offer += 1
                    url = f"https://watch.example/{service}/{film}/{offer_type}/{region.lower()}"
                    yield (
                        offer,
                        film,
                        service,
                        offer_type,
                        region,
                        url,
                        first_seen,
                        last_checked,
                        ended,
                    )

        columns = [
            "id", "film_id", "service_id", "offer_type", "region", "url", "first_seen",
            "last_checked", "ended",
        ]  # fmt: skip
        self.write("films_availability", columns, rows())

    def reviews(self) -> None:
        rng, now = self.generator("reviews"), self.now
        published = self.size.reviews
        # Beside the published ones, the other states a newsroom has in its pipeline.
        others = (
            [("draft", None, None)] * (published // 12)
            + [("in_review", None, None)] * (published // 60)
            + [("sent_back", None, None)] * (published // 100)
            + [("scheduled", None, None)] * max(2, published // 100)
            + [("expired", None, None)] * max(2, published // 60)
            + [("unpublished", None, None)] * (published // 100)
        )
        states = ["published"] * published + [state for state, _, _ in others]
        rng.shuffle(states)
        # Mostly one review per film, some films reviewed twice.
        films = rng.sample(range(1, self.size.films + 1), min(len(states), self.size.films))
        films += rng.choices(films, k=len(states) - len(films))

        def paragraph(sentences: int) -> str:
            return " ".join(rng.choice(SENTENCES) for _ in range(sentences))

        def rows():
            for i, (state, film) in enumerate(zip(states, films, strict=True), 1):
                status, published_at, expires_at = state, None, None
                past = now - timedelta(minutes=rng.randint(60, 60 * 24 * 365 * 8))
                if state == "published":
                    published_at = past
                    if rng.random() < 0.02:  # will expire
                        expires_at = now + timedelta(days=rng.randint(1, 300))
                elif state == "scheduled":
                    status = "published"
                    published_at = now + timedelta(minutes=rng.randint(60, 60 * 24 * 90))
                elif state == "expired":
                    status = "published"
                    published_at = past
                    expires_at = past + (now - past) * rng.random() + timedelta(seconds=1)
                    expires_at = min(expires_at, now - timedelta(seconds=1))
                elif state == "unpublished":
                    published_at = past
                elif rng.random() < 0.3:  # a planned time on a draft
                    published_at = now + timedelta(days=rng.randint(1, 60))
                headline = f"{self.film_titles[film - 1][:150]}: {rng.choice(HEADLINE_PHRASES)}"
                created = (published_at or now) - timedelta(days=rng.randint(1, 30))
                created = min(created, now)
                rating = None
                if rng.random() < 0.9:
                    rating = f"{rng.randint(1, 10) / 2:.1f}"
                yield (
                    i,
                    film,
                    headline,
                    self.unique_slug("review", headline),
                    paragraph(2) if rng.random() < 0.7 else "",
                    None,
                    rng.choice(BYLINES),
                    rating,
                    paragraph(4),
                    "\n\n".join(paragraph(5) for _ in range(3)),
                    paragraph(2),
                    paragraph(2),
                    "",
                    "",
                    "",
                    "",
                    50,
                    50,
                    "{}",
                    status,
                    published_at,
                    expires_at,
                    False,
                    1,
                    created,
                    max(created, min(published_at or created, now)),
                )

        columns = [
            "id", "film_id", "headline", "slug", "standfirst", "author_id", "byline", "rating",
            "synopsis", "critique", "criticisms", "conclusion", "lead_image", "lead_image_alt",
            "lead_image_caption", "lead_image_credit", "lead_image_focal_x",
            "lead_image_focal_y", "lead_image_renditions", "status", "published_at",
            "expires_at", "is_demo", "version", "created_at", "updated_at",
        ]  # fmt: skip
        self.write("reviews_review", columns, rows())
        self.review_count = len(states)

    def keywords(self, film_type: int, review_type: int) -> None:
        rng = self.generator("keywords")
        self.write(
            "taggit_tag",
            ["id", "name", "slug"],
            ((i, n, self.unique_slug("tag", n)) for i, n in enumerate(KEYWORDS, 1)),
        )
        tags = list(range(1, len(KEYWORDS) + 1))

        def rows():
            link = 0
            for content_type, count, share in (
                (review_type, self.review_count, 0.8),
                (film_type, self.size.films, 0.2),
            ):
                for obj in range(1, count + 1):
                    if rng.random() >= share:
                        continue
                    for tag in sorted(set(rng.choices(tags, k=rng.randint(1, 4)))):
                        link += 1
                        yield link, obj, content_type, tag

        self.write("taggit_taggeditem", ["id", "object_id", "content_type_id", "tag_id"], rows())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 films")
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rebuild", action="store_true", help="build even if one is there")
    parser.add_argument("--name", default="", help="database name (default filmmag_bench_<films>)")
    args = parser.parse_args()
    url = database_url(args.engine, args.scale, name=args.name)
    configure(url)
    import django

    django.setup()
    ensure(args.scale, rebuild=args.rebuild)
    say(f"DATABASE_URL={url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
