"""Seeders and identity hooks with the wrong signature, as a user might write them."""


def seeder_without_users():
    """Forgets the ``users`` argument perftest passes."""
    return []


def hook_with_two_arguments(user, role):
    """Wants a second argument perftest never passes."""
    return []
