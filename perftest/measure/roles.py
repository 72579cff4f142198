"""Which identity measures what when a run has several roles (5 students and 2 teachers).

The sequential pass measures every endpoint once per role, with that role's first identity,
so a teacher's lesson list is timed beside a student's. Load workers take the identities in
an order that keeps the roles in proportion however few workers a level has (nginx's smooth
weighted round-robin over the roles), so a level of 2 workers out of 5 students and 2
teachers has one of each, and a level of 7 has all seven. With one role (named or not)
nothing is split: rows carry the role "" and read exactly as before roles existed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .auth import Identity


def role_names(identities: Sequence[Identity]) -> tuple[str, ...]:
    """The roles results are split by, in seeding order; () when there is one role or none."""
    names = tuple(dict.fromkeys(identity.role for identity in identities))
    return names if len(names) > 1 else ()


def row_role(identity: Identity, names: Sequence[str]) -> str:
    """The role a row measured with ``identity`` is stored under: "" unless results split."""
    return identity.role if names else ""


def first_of_each_role(identities: Sequence[Identity]) -> list[Identity]:
    """The identity of each role that measures the sequential pass (the first one only when
    the run has one role)."""
    names = role_names(identities)
    if not names:
        return [identities[0]]
    return [next(i for i in identities if i.role == name) for name in names]


def worker_order(identities: Sequence[Identity]) -> list[Identity]:
    """Every identity once, the roles interleaved in proportion to their counts: worker ``k``
    of a level takes the ``k``-th, so any number of workers keeps the roles' shares."""
    names = role_names(identities)
    if not names:
        return list(identities)
    queues = {name: [i for i in identities if i.role == name] for name in names}
    weights = {name: len(queue) for name, queue in queues.items()}
    total = len(identities)
    current = dict.fromkeys(names, 0)
    order: list[Identity] = []
    while len(order) < total:
        for name in names:
            current[name] += weights[name]
        best = max(names, key=current.__getitem__)  # exactly weight picks per name
        current[best] -= total
        order.append(queues[best].pop(0))
    return order
