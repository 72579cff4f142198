"""The run page's editable fields: the label, checked as ``--label`` checks it, and a person's
notes (``Run.comment``; the run's own ``notes`` are its record and stay read-only)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from perftest import models


class RunForm(forms.ModelForm):
    """A label stays one line of plain text, so the report's title stays one line."""

    class Meta:
        model = models.Run
        fields = ("label", "comment")

    def clean_label(self) -> str:
        label = self.cleaned_data["label"]
        if not label.isprintable():
            raise ValidationError("A label is one line of text, without line breaks or tabs.")
        return label
