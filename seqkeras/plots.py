"""Plots the chapters share. Each returns the matplotlib Axes it drew on."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def _axes(ax, figsize=(7, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, metric="loss", ax=None, title=None, ylabel=None):
    """Training and validation curves of one metric from ``model.fit``'s History."""
    ax = _axes(ax)
    logs = history.history if hasattr(history, "history") else history
    epochs = np.arange(1, len(logs[metric]) + 1)
    ax.plot(epochs, logs[metric], marker="o", label="training")
    if f"val_{metric}" in logs:
        ax.plot(epochs, logs[f"val_{metric}"], marker="o", label="validation")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel or metric)
    ax.set_title(title or metric)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_bars(values, ylabel, title=None, ax=None, highlight=()):
    """A labelled bar per entry of ``values`` ({label: number}), value printed on each bar;
    ``highlight`` names bars drawn in a second colour (the model the chapter introduces)."""
    ax = _axes(ax)
    labels = list(values)
    colors = ["tab:orange" if label in highlight else "tab:blue" for label in labels]
    bars = ax.bar(labels, [values[k] for k in labels], color=colors)
    ax.bar_label(bars, fmt="%.2f")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_gradient_norms(curves, ax=None, title="Gradient reaching step t"):
    """||dL/dh_t|| / ||dL/dh_T|| against the distance T - t, log scale, one line per
    {label: norms} (norms as returned by ``diagnostics.state_gradient_norms``).

    Dividing by the last step's norm makes curves of different losses comparable: each starts
    at 1, and its slope is the per-step rate of vanishing (down) or exploding (up).
    """
    ax = _axes(ax)
    for label, norms in curves.items():
        norms = np.asarray(norms)
        distance = np.arange(len(norms))[::-1]
        ax.semilogy(distance, norms / norms[-1], label=label)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_xlabel("distance back in time, T - t (steps)")
    ax.set_ylabel("||dL/dh_t|| / ||dL/dh_T||  (log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax


def plot_forecast(x, actual, forecasts, ax=None, xlabel="time", ylabel="value", title=None):
    """The actual series and each forecast in ``forecasts`` ({label: values}) over ``x``."""
    ax = _axes(ax, figsize=(10, 4))
    ax.plot(x, actual, color="black", linewidth=2, label="actual")
    for label, values in forecasts.items():
        ax.plot(x, values, linewidth=1.3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_curves(curves, ylabel, ax=None, title=None, xlabel="epoch", baseline=None,
                baseline_label="baseline", log_scale=False):
    """One line per ``{label: values}`` against 1, 2, ... (epochs), on one Axes, for comparing
    models' learning curves; ``baseline`` draws a dashed horizontal line (a trivial predictor's
    score) labelled ``baseline_label``."""
    ax = _axes(ax, figsize=(8, 4))
    for label, values in curves.items():
        values = np.asarray(values)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", label=baseline_label)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title or "")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax


def plot_attention(weights, source_tokens, target_tokens, ax=None, title=None):
    """Heatmap of one sentence's attention weights: target words down, source words across.

    Args:
        weights: ``(T_target, T_source)`` array; row i is alpha_i over the source positions.
            Extra rows or columns (padding) are cut to the token lists' lengths.
        source_tokens: the source words (columns).
        target_tokens: the generated words (rows).
        title: drawn above the heatmap, wrapped to lines of at most 60 characters so that a
            whole reference sentence fits over a panel of a grid.

    Returns:
        The Axes.
    """
    weights = np.asarray(weights)[:len(target_tokens), :len(source_tokens)]
    ax = _axes(ax, figsize=(0.5 * len(source_tokens) + 2, 0.4 * len(target_tokens) + 1.5))
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=60, ha="right")
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(textwrap.fill(title, 60), fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.04, label="attention weight")
    return ax


def plot_bleu_by_length(rows, ax=None, title="Translation quality by source length",
                        styles=None):
    """One line per system of ``metrics.bleu_by_length``'s rows: BLEU against length bucket.

    The legend sits outside the axes, to the right, so that it never hides a line.
    ``styles`` maps a system's name to keyword arguments of its line (``color``,
    ``linestyle`` ...), e.g. one color per model and a dashed line for its shorter training,
    as in Bahdanau et al.'s Figure 2.
    """
    ax = _axes(ax)
    buckets = [row["source tokens"] for row in rows]
    for name in [k for k in rows[0] if k not in ("source tokens", "sentences")]:
        style = {"marker": "o", **(styles or {}).get(name, {})}
        ax.plot(buckets, [row[name] for row in rows], label=name, **style)
    ax.set_xlabel("source length (tokens)")
    ax.set_ylabel("test BLEU")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def plot_attention_heads(weights, source_tokens, target_tokens, title=None, head_names=None):
    """One small heatmap per attention head, side by side, sharing the token axes.

    Args:
        weights: ``(heads, T_target, T_source)`` for one sentence (padding is cut off).
        source_tokens, target_tokens: the tokens of the columns and of the rows.
        title: title of the whole figure.
        head_names: a title per head (default "head 1", "head 2", ...).

    Returns:
        The array of Axes.
    """
    weights = np.asarray(weights)[:, :len(target_tokens), :len(source_tokens)]
    heads = weights.shape[0]
    width = max(2.5, 0.32 * len(source_tokens) + 0.8)
    fig, axes = plt.subplots(1, heads, figsize=(width * heads, 0.3 * len(target_tokens) + 2),
                             squeeze=False)
    for h, ax in enumerate(axes[0]):
        ax.imshow(weights[h], cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=70, ha="right",
                      fontsize=8)
        ax.set_yticks(range(len(target_tokens)), target_tokens if h == 0 else [], fontsize=8)
        ax.set_title(head_names[h] if head_names else f"head {h + 1}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes[0]
