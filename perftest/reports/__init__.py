"""Reports rendered from a stored run only, so re-rendering a run gives the same text."""
