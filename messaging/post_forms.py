"""Shapes of what people post. Rules (who may post where) live in the services."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from marketplace.uploads import validate_image_upload
from messaging.posts import ANSWER_MAX_CHARS, MESSAGE_MAX_CHARS, QUESTION_MAX_CHARS


def _body(label: str, limit: int, rows: int, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        required=required,
        strip=True,
        error_messages={
            "required": "Write something first.",
            "max_length": f"Keep it under {limit:,} characters (it has %(show_value)s characters).",
        },
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": limit}),
    )


class QuestionForm(forms.Form):
    body = _body("Your question", QUESTION_MAX_CHARS, 3)


class AnswerForm(forms.Form):
    body = _body("Your answer", ANSWER_MAX_CHARS, 3)


class MessageForm(forms.Form):
    body = _body("Your message", MESSAGE_MAX_CHARS, 4, required=False)
    attachment = forms.FileField(
        label="Add a picture",
        required=False,
        help_text="Optional: a JPEG, PNG, WebP or GIF.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            validate_image_upload(upload, max_bytes=settings.MESSAGE_IMAGE_MAX_BYTES)
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("body") and not data.get("attachment") and not self.errors:
            raise ValidationError("Write a message or add a picture.")
        return data
