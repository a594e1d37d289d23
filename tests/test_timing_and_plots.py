"""The timing helper and the attention-head plot."""

import keras
import matplotlib
import numpy as np

from seqkeras import plots, timing

matplotlib.use("Agg")


def test_training_step_seconds_times_a_real_step():
    built = []

    def layer_output(x):
        layer = keras.layers.Dense(3)
        built.append(layer)
        return layer(x)

    seconds = timing.training_step_seconds(layer_output, batch=2, length=5, width=4, repeats=2)
    assert 0.0 < seconds < 10.0
    kernel = keras.ops.convert_to_numpy(built[0].kernel)
    assert np.abs(kernel).sum() > 0 and built[0].built  # the model was built and trained


def test_plot_attention_heads_draws_one_panel_per_head(rng):
    weights = rng.random((3, 6, 8))
    axes = plots.plot_attention_heads(weights, ["a", "b", "c", "d"], ["x", "y"],
                                      title="heads")
    assert len(axes) == 3
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["a", "b", "c", "d"]
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["x", "y"]
    assert axes[1].get_title() == "head 2"
    image = axes[2].get_images()[0].get_array()
    np.testing.assert_allclose(image, weights[2, :2, :4])  # padding rows and columns cut
    matplotlib.pyplot.close("all")
