"""Views of the stand-in, one module per area of the API."""
