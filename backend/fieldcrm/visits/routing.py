"""Ordering a day's stops: nearest first, or a short route (nearest neighbour, then 2-opt).

The route is an open path from the start (the rep's position, or the first planned stop) through
every stop. 2-opt only ever accepts a shorter path, and the planned order is returned instead if it
is shorter still, so the route is never longer than the order the stops were planned in.
"""

import itertools
from collections.abc import Sequence

from fieldcrm.visits.verification import distance_m

Point = tuple[float, float]
MAX_ROUTE_STOPS = 25


def _matrix(points: Sequence[Point]) -> list[list[float]]:
    n = len(points)
    m = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            m[i][j] = m[j][i] = distance_m(*points[i], *points[j])
    return m


def path_length(order: Sequence[int], m: Sequence[Sequence[float]], start: int | None) -> float:
    """Length of visiting ``order`` (indices into ``m``), beginning at ``start`` when given."""
    stops = [start, *order] if start is not None else list(order)
    return sum(m[a][b] for a, b in itertools.pairwise(stops))


def nearest_first(start: Point, stops: Sequence[Point]) -> list[int]:
    """Stops sorted by their distance from the start (what a rep scanning the list wants)."""
    return sorted(range(len(stops)), key=lambda i: distance_m(*start, *stops[i]))


def _nearest_neighbour(m: Sequence[Sequence[float]], start: int, todo: set[int]) -> list[int]:
    order: list[int] = []
    here = start
    while todo:
        nxt = min(todo, key=lambda j: (m[here][j], j))
        order.append(nxt)
        todo.remove(nxt)
        here = nxt
    return order


def _two_opt(order: list[int], m: Sequence[Sequence[float]], start: int | None) -> list[int]:
    path = [start, *order] if start is not None else list(order)
    fixed = 1 if start is not None else 0  # the start never moves
    improved = True
    while improved:
        improved = False
        for i in range(max(fixed, 1), len(path) - 1):
            for k in range(i + 1, len(path)):
                a, b = path[i - 1], path[i]
                c = path[k]
                d = path[k + 1] if k + 1 < len(path) else None
                before = m[a][b] + (m[c][d] if d is not None else 0.0)
                after = m[a][c] + (m[b][d] if d is not None else 0.0)
                if after < before - 1e-6:
                    path[i : k + 1] = reversed(path[i : k + 1])
                    improved = True
        if fixed == 0 and len(path) > 2:
            # Without a fixed start the first stop may also change: try reversing any prefix.
            for k in range(1, len(path) - 1):
                if m[path[k]][path[k + 1]] > m[path[0]][path[k + 1]] + 1e-6:
                    path[0 : k + 1] = reversed(path[0 : k + 1])
                    improved = True
    return path[fixed:] if start is not None else path


def route(start: Point | None, stops: Sequence[Point]) -> list[int]:
    """A short open path through the stops (at most MAX_ROUTE_STOPS), never longer than the given order."""
    if len(stops) > MAX_ROUTE_STOPS:
        msg = f"a route takes at most {MAX_ROUTE_STOPS} stops"
        raise ValueError(msg)
    if len(stops) < 2:  # nothing to order
        return list(range(len(stops)))
    points = [*stops, start] if start is not None else list(stops)
    m = _matrix(points)
    origin = len(stops) if start is not None else None
    if origin is not None:
        order = _nearest_neighbour(m, origin, set(range(len(stops))))
    else:
        order = [0, *_nearest_neighbour(m, 0, set(range(1, len(stops))))]
    order = _two_opt(order, m, origin)
    planned = list(range(len(stops)))
    if path_length(planned, m, origin) <= path_length(order, m, origin):
        return planned
    return order


def leg_lengths(start: Point | None, stops: Sequence[Point]) -> list[float | None]:
    """Distance of each stop from the one before it (the first from the start, or None without one)."""
    legs: list[float | None] = []
    here = start
    for stop in stops:
        legs.append(distance_m(*here, *stop) if here is not None else None)
        here = stop
    return legs
