"""The groups Writers and Editors, with their permissions (see README, "Roles and a review's
life"). The lists are frozen here; to change a role, add a migration that calls
``sync_groups()`` with the new lists."""

from functools import partial

from django.db import migrations

from reviews.roles import sync_groups

REVIEWS = ["reviews.add_review", "reviews.change_review", "reviews.view_review"]
CATALOGUE = ["film", "person", "genre", "streamingservice", "credit", "availability"]

ROLES = {
    # Writers add reviews (and change their own, while drafts or sent back: reviews.admin
    # narrows change_review to that), and add, never change or delete, the films, people,
    # services, credits and offers a review needs. Genres are the site's navigation: writers
    # choose among them, editors make them.
    "Writers": [
        *REVIEWS,
        *[f"films.{action}_{model}" for model in CATALOGUE for action in ("add", "view")
          if model != "genre"],
        "films.view_genre",
    ],
    # Editors do everything with reviews and the catalogue, keywords included.
    "Editors": [
        *REVIEWS,
        "reviews.delete_review",
        "reviews.publish_review",
        "reviews.view_reviewtransition",
        *[f"films.{action}_{model}" for model in CATALOGUE
          for action in ("add", "change", "delete", "view")],
        "films.view_slughistory",
        "films.change_slughistory",
        "films.delete_slughistory",
        "taggit.add_tag",
        "taggit.change_tag",
        "taggit.delete_tag",
        "taggit.view_tag",
    ],
}


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("films", "0005_migrate_slugs"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("reviews", "0005_review_states"),
    ]

    operations = [
        migrations.RunPython(partial(sync_groups, roles=ROLES), migrations.RunPython.noop),
    ]
