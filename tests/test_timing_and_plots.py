"""The timing helper and the plots."""

import keras
import matplotlib
import numpy as np
import pytest

from seqkeras import plots, timing

matplotlib.use("Agg")


def test_training_step_seconds_times_a_real_step():
    built = []

    def layer_output(x):
        layer = keras.layers.Dense(3, kernel_initializer="ones")
        built.append(layer)
        return layer(x)

    seconds = timing.training_step_seconds(layer_output, batch=2, length=5, width=4, repeats=2)
    assert 0.0 < seconds < 10.0
    # Four Adam steps (two untimed, two timed) at learning rate 1e-3 move every weight of the
    # all-ones kernel by about 1e-3 each: a step that did not train would leave it at 1.
    kernel = keras.ops.convert_to_numpy(built[0].kernel)
    assert np.abs(kernel - 1.0).min() > 1e-3


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


def test_plot_attention_cuts_padding_and_wraps_a_long_title(rng):
    weights = rng.random((5, 7))
    reference = "and he built his sanctuary like high palaces, like the earth which he hath " \
                "established for ever."
    ax = plots.plot_attention(weights, ["et", "il", "bâtit"], ["and", "he"], title=reference)
    np.testing.assert_allclose(ax.get_images()[0].get_array(), weights[:2, :3])
    lines = ax.get_title().split("\n")
    assert len(lines) == 2 and max(map(len, lines)) <= 60
    assert " ".join(lines) == reference
    matplotlib.pyplot.close("all")


def test_time_budget_stops_training_and_runs_are_saved_and_loaded(tmp_path):
    from seqkeras import training

    x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    def model():
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        return m

    budget = training.TimeBudget(0.05)
    run = training.fit(model(), x, y, (x, y), epochs=10_000, loss="mse", batch_size=8,
                       verbose=0, callbacks=[budget])
    assert 1 <= len(run.history["loss"]) < 10_000 and budget.elapsed >= 0.05
    path = tmp_path / "weights" / "run.weights.h5"
    training.save_run(run, path)
    loaded = training.load_run(model(), path, x[:2])
    assert loaded.history == run.history and loaded.seconds_per_epoch == run.seconds_per_epoch
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), run.model.predict(x, verbose=0))
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert training.load_run(other, path, x[:2]) is None  # another configuration
    assert training.load_run(model(), tmp_path / "missing.weights.h5", x[:2]) is None
    with pytest.raises(ValueError, match="seconds"):
        training.TimeBudget(0)


def test_interleaved_step_seconds_times_every_model():
    x = np.zeros((16, 8), "float32")
    small, large = (keras.Sequential([keras.Input((8,)), keras.layers.Dense(width),
                                      keras.layers.Dense(1)]) for width in (2, 2048))
    for m in (small, large):
        m.compile(optimizer="adam", loss="mse")
    seconds = timing.interleaved_step_seconds({"small": small, "large": large}, x,
                                              np.zeros((16, 1), "float32"), repeats=5)
    assert set(seconds) == {"small", "large"} and all(s > 0 for s in seconds.values())


def test_translation_step_seconds_compiles_and_times_fresh_models():
    from seqkeras.data import WordVocabulary, encode_pairs
    from seqkeras.models import Seq2Seq

    pairs = [("das haus ist alt", "the house is old"), ("der hund", "the dog")] * 4
    source = WordVocabulary([s for s, _ in pairs], min_count=1)
    target = WordVocabulary([t for _, t in pairs], min_count=1)
    batch = encode_pairs(pairs, source, target, max_length=6)
    made = []

    def maker(layers):
        def make():
            made.append(Seq2Seq(len(source), len(target), 4, 8, num_layers=layers))
            return made[-1]
        return make

    seconds = timing.translation_step_seconds({1: maker(1), 2: maker(2)}, batch, batch_size=4,
                                              repeats=2, run_eagerly=True)
    assert set(seconds) == {1, 2} and all(s > 0 for s in seconds.values())
    assert all(model.compiled and model.optimizer.iterations.numpy() == 4 for model in made)


def test_plot_bleu_by_length_draws_a_line_per_system_with_the_legend_outside():
    rows = [{"source tokens": "1-10", "sentences": 3, "a": 20.0, "b": 5.0},
            {"source tokens": "11-20", "sentences": 4, "a": 18.0, "b": 2.0}]
    ax = plots.plot_bleu_by_length(rows)
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[1].get_ydata()) == [5.0, 2.0]
    assert ax.get_ylim()[0] == 0
    legend_box = ax.get_legend().get_window_extent(ax.figure.canvas.get_renderer())
    assert legend_box.x0 >= ax.get_window_extent().x1  # right of the axes, over no line
    matplotlib.pyplot.close(ax.figure)
    styled = plots.plot_bleu_by_length(rows, styles={"b": {"linestyle": "--", "color": "red"}})
    a_line, b_line = styled.get_lines()
    assert b_line.get_linestyle() == "--" and b_line.get_color() == "red"
    assert a_line.get_linestyle() == "-" and a_line.get_marker() == b_line.get_marker() == "o"
    matplotlib.pyplot.close(styled.figure)


def test_predict_in_batches_equals_predict_on_every_model_without_retracing(caplog, rng):
    from seqkeras import training

    x = rng.normal(size=(37, 6, 3)).astype("float32")  # a last batch smaller than the others
    taggers = [keras.Sequential([keras.Input((6, 3)), keras.layers.SimpleRNN(units,
                                                                            return_sequences=True),
                                 keras.layers.Dense(1, activation="sigmoid")])
               for units in (2, 3, 4, 5, 6, 7)]
    with caplog.at_level("WARNING"):
        outputs = [training.predict_in_batches(tagger, x, batch_size=8) for tagger in taggers]
    assert "retracing" not in caplog.text  # what model.predict in this loop prints on TF
    for tagger, output in zip(taggers, outputs, strict=True):
        assert output.shape == (37, 6, 1)
        np.testing.assert_allclose(output, tagger.predict(x, batch_size=8, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        training.predict_in_batches(taggers[0], x, batch_size=0)
