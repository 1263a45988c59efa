"""Form helpers shared by the admins of both apps."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils.text import Truncator
from taggit.forms import TagField
from taggit.models import Tag

from films.tags import tag_names_resolve


class OptimisticLockingForm(forms.ModelForm):
    """A ModelForm that will not overwrite changes another editor saved after this form was opened.

    The model needs a version counter (``version = PositiveIntegerField(default=1,
    editable=False)``). The form sends the version it was loaded with back as the hidden
    ``loaded_version`` field; admins must list that field in their fieldsets so it is rendered.
    On submit, ``clean()`` reads the row's current version, locking the row until the
    transaction ends (the admin saves inside one), and refuses stale data with a non-field
    error; the bound form re-renders with the editor's text so nothing typed is lost.
    ``save()`` then writes the next version.

    For models without a version field the form behaves like a plain ModelForm.
    """

    version_field_name = "version"

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self._is_versioned():
            self.fields["loaded_version"].initial = getattr(self.instance, self.version_field_name)

    def clean(self):
        cleaned_data = super().clean()
        if self._is_versioned():
            self._current_version = self._locked_current_version()
            loaded = cleaned_data.get("loaded_version")
            if loaded is None or loaded != self._current_version:
                raise ValidationError(self.stale_message(), code="stale")
        return cleaned_data

    def save(self, commit=True):
        if self._is_versioned() and not self.errors:
            setattr(self.instance, self.version_field_name, self._current_version + 1)
        return super().save(commit=commit)

    def stale_message(self) -> str:
        name = self.instance._meta.verbose_name
        return (
            f"This {name} was changed by someone else since you opened it, so your changes "
            "were not saved. Reload the page to see their changes; your text is below so you "
            "can copy it."
        )

    def _is_versioned(self) -> bool:
        has_field = any(
            field.name == self.version_field_name for field in self.instance._meta.concrete_fields
        )
        return has_field and not self.instance._state.adding

    def _locked_current_version(self):
        model = type(self.instance)
        rows = model._default_manager.filter(pk=self.instance.pk)
        if transaction.get_connection(router.db_for_write(model)).in_atomic_block:
            rows = rows.select_for_update()
        # None when the row was deleted meanwhile: also stale.
        return rows.values_list(self.version_field_name, flat=True).first()


class KeywordsField(TagField):
    """Comma-separated keywords, each short enough to be a tag: refused with a message rather
    than by the database (taggit's tag names are at most 100 characters). A keyword whose tag
    was merged into another becomes that other one, so a form opened before the merge does
    not bring the merged tag back."""

    max_keywords = 50

    def clean(self, value):
        names = super().clean(value)
        limit = Tag._meta.get_field("name").max_length
        too_long = [name for name in names if len(name) > limit]
        if too_long:
            raise ValidationError(
                f"A keyword can be at most {limit} characters; "
                f"“{Truncator(too_long[0]).chars(40)}” has {len(too_long[0])}."
            )
        if len(names) > self.max_keywords:
            raise ValidationError(
                f"Give at most {self.max_keywords} keywords (there are {len(names)})."
            )
        return tag_names_resolve(names=names)
