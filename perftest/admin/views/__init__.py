"""One view per admin page beyond the model admin's own (django-silk's ``silk/views/``)."""
