"""Where an account is, in H3 cells at the resolutions the coverage map groups by.

The cells are stored with the account whenever its location is written (create, edit, import, demo),
so the map groups accounts by a column instead of computing cells for every account on every request.
"""

import h3

MAP_RESOLUTIONS = (3, 5, 7)  # about 12,000, 250 and 5 km² a cell


def cells(latitude: float | None, longitude: float | None) -> dict[str, str | None]:
    """The account's cells as column values (``h3_r3``, ``h3_r5``, ``h3_r7``); all None without a location."""
    if latitude is None or longitude is None:
        return {f"h3_r{r}": None for r in MAP_RESOLUTIONS}
    return {f"h3_r{r}": h3.latlng_to_cell(latitude, longitude, r) for r in MAP_RESOLUTIONS}
