"""What the benchmark scripts share: round-robin timing of seqkeras/twin pairs, printed as
ratios (the variants are timed in turn, each round timing every
variant once, so that a slow spell of the machine hits them all alike)."""

from __future__ import annotations

import numpy as np


def compare(pairs, make_step, rounds, label, twin_label):
    """Time ``make_step(make())`` for both sides of every ``{name: (seqkeras, twin)}`` pair;
    print each side's median step in ms and the ratio seqkeras / twin; return the ratios."""
    steps = {(name, side): make_step(make()) for name, makers in pairs.items()
             for side, make in zip(("seqkeras", "twin"), makers, strict=True)}
    times = {key: [] for key in steps}
    for _ in range(rounds):
        for key, step in steps.items():
            times[key].append(step())
    width = max(len(label), *map(len, pairs)) + 2
    print(f"\n{label:<{width}} {'seqkeras ms':>12} {twin_label + ' ms':>12} {'ratio':>7}")
    ratios = {}
    for name in pairs:
        ours, theirs = (1e3 * np.median(times[(name, side)]) for side in ("seqkeras", "twin"))
        ratios[name] = ours / theirs
        print(f"{name:<{width}} {ours:>12.1f} {theirs:>12.1f} {ratios[name]:>7.2f}")
    return ratios
