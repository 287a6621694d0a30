"""Small helpers shared by the views of every app."""

from django.core.exceptions import ValidationError


def form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form, by field where the form has that field and
    as a form-wide error otherwise."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)
