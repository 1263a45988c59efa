import pytest

from films.cache import catalogue_changes_ignored, catalogue_version
from tests.factories import make_film

pytestmark = pytest.mark.django_db


def test_a_catalogue_change_gives_a_new_version():
    version = catalogue_version()

    make_film("Vertigo")

    assert catalogue_version() != version


def test_changes_are_ignored_only_inside_the_block():
    version = catalogue_version()

    with catalogue_changes_ignored():
        make_film("Vertigo", genres=["Thriller"])
    assert catalogue_version() == version

    make_film("Psycho")
    assert catalogue_version() != version


def test_the_block_ends_even_when_it_fails():
    version = catalogue_version()

    with pytest.raises(RuntimeError), catalogue_changes_ignored():
        raise RuntimeError("the dry run failed")
    make_film("Vertigo")

    assert catalogue_version() != version
