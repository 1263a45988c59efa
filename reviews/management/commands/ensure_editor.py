import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

EDITOR_USERNAME = "editor"


class Command(BaseCommand):
    help = (
        "Make sure someone can log in to the admin. With no superuser yet, create "
        f"'{EDITOR_USERNAME}' with a random password and print it; otherwise say who can log in. "
        f"--reset-password gives '{EDITOR_USERNAME}' a new random password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help=f"Set and print a new random password for '{EDITOR_USERNAME}', creating it.",
        )
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000",
            help="Where the site is served, for the admin link (default: %(default)s).",
        )

    def handle(self, *args, reset_password, site_url, **options):
        admin_url = site_url.rstrip("/") + reverse("admin:index")
        User = get_user_model()
        superusers = User.objects.filter(is_superuser=True, is_active=True)

        if not reset_password and superusers.exists():
            names = ", ".join(sorted(u.get_username() for u in superusers))
            self.stdout.write(
                f"Admin: {admin_url} (log in as {names}; "
                "forgot the password? `make editor` sets a new one)"
            )
            return

        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            editor = User.objects.filter(**{User.USERNAME_FIELD: EDITOR_USERNAME}).first()
            created = editor is None
            if created:
                editor = User(**{User.USERNAME_FIELD: EDITOR_USERNAME})
            # The point is to get into the admin: whatever the account was, it can now.
            editor.is_staff = editor.is_superuser = editor.is_active = True
            editor.set_password(password)
            editor.save()

        action = "Created the editor account" if created else "Set a new password for the editor"
        self.stdout.write(
            self.style.SUCCESS(f"\n{action}. Log in to the admin with:\n")
            + f"    {admin_url}\n"
            + f"    username: {EDITOR_USERNAME}\n"
            + f"    password: {password}\n\n"
            + "Keep it somewhere safe; `make editor` sets a new one if it is lost.\n"
        )
