"""The garbage collector's settings for a serving process (docs/performance.md, "Garbage
collection").

A request allocates thousands of short-lived objects, so the youngest generation fills many
times per request and every third or so collection of an older generation walks the whole
heap, start-up included: modules, the app and its routes, clients, prepared statements. Both
are cut here, once start-up is over: what start-up built is frozen out of the collector's
reach (`gc.freeze`), and the youngest generation may grow to `YOUNGEST` objects before a
collection. Reference cycles are still collected, a little later.
"""

import gc

# Objects allocated (net) before the youngest generation is collected; Python's default is
# 700. The older generations keep their default ratios.
YOUNGEST = 20_000


def settle_heap() -> None:
    """Called by a lifespan when start-up is over, just before the app serves."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST, middle, oldest)
