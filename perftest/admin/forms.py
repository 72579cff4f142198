"""The run page's one editable field, checked as ``--label`` checks it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from perftest import models


class RunForm(forms.ModelForm):
    """A label stays one line of plain text, so the report's title stays one line."""

    class Meta:
        model = models.Run
        fields = ("label",)

    def clean_label(self) -> str:
        label = self.cleaned_data["label"]
        if not label.isprintable():
            raise ValidationError("A label is one line of text, without line breaks or tabs.")
        return label
