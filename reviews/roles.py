"""The editorial roles, Writers and Editors: Django groups that migrations keep in sync.

A migration passes the permissions it wants, frozen in the migration itself, to
``sync_groups()``; a later migration changes a role by calling it again with the new list.
Superusers need no group: they have every permission.
"""

from django.contrib.auth.management import create_permissions

WRITERS = "Writers"
EDITORS = "Editors"


def sync_groups(apps, schema_editor, roles: dict[str, list[str]]) -> None:
    """Create each group in ``roles`` if needed and give it exactly these permissions
    ("app_label.codename"): permissions added by hand in the admin are taken away again, so
    running it twice gives the same groups. An unknown permission stops the migration."""
    using = schema_editor.connection.alias
    # Django creates permissions after all migrations have run; a new database needs them now.
    # A migration's app configs have no models module, which create_permissions() requires.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in roles.items():
        permissions = []
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            permission = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if permission is None:
                raise LookupError(f"The role {name} names {dotted}, which does not exist.")
            permissions.append(permission)
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)
