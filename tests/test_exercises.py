"""The learners' checkers: a right implementation passes, every catalogued mistake is caught
and named, an uncatalogued one is caught with the wrong part named, and broken code gives a
message about the learner's own line, never a Keras traceback."""

import numpy as np
import pytest
from keras import ops

from seqkeras import exercises
from seqkeras.layers import ElmanCell, GRUCell, LSTMCell, scaled_dot_product_attention

CELLS = {  # exercise, checker, reference cell, its mistakes
    "elman": (exercises.ElmanCellExercise, exercises.check_elman_cell, ElmanCell,
              exercises.ELMAN_MISTAKES),
    "lstm": (exercises.LSTMCellExercise, exercises.check_lstm_cell, LSTMCell,
             exercises.LSTM_MISTAKES),
    "gru": (exercises.GRUCellExercise, exercises.check_gru_cell, GRUCell,
            exercises.GRU_MISTAKES),
}


def solved(name):
    base, _, reference, _ = CELLS[name]
    return type("Solved", (base,), {"call": reference.call})


def from_catalogue(name, compute):
    """A learner's cell whose one step computes a catalogued mistake (in NumPy)."""
    base = CELLS[name][0]

    def call(self, inputs, states, training=None):
        weights = {v.name: ops.convert_to_numpy(v).astype("float64") for v in self.weights}
        states = [ops.convert_to_numpy(s).astype("float64") for s in states]
        new = compute(weights, ops.convert_to_numpy(inputs).astype("float64"), states)
        return new[0], new

    return type("Mistaken", (base,), {"call": call})


@pytest.mark.parametrize("name", CELLS)
def test_the_skeleton_says_not_implemented_and_a_solution_passes(name, capsys):
    base, check, _, _ = CELLS[name]
    result = check(base)
    assert not result.passed and "not implemented yet" in result.message
    result = check(solved(name))
    assert result.passed, result.message
    assert "[PASSED]" in capsys.readouterr().out  # printed as the notebook's verdict


@pytest.mark.parametrize("name", CELLS)
def test_every_catalogued_cell_mistake_is_caught_and_named(name):
    _, check, _, mistakes = CELLS[name]
    assert len(mistakes) >= 4
    for mistake, compute in mistakes.items():
        result = check(from_catalogue(name, compute))
        assert not result.passed
        assert mistake in result.message, (mistake, result.message)


class ForgetGateOnH(exercises.LSTMCellExercise):  # written with keras.ops, as a learner would
    def call(self, inputs, states, training=None):
        h, c = states
        i, f, g, o = ops.split(ops.matmul(inputs, self.W_x) + ops.matmul(h, self.W_h) + self.b,
                               4, axis=-1)
        c = ops.sigmoid(f) * h + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]


class SwappedZ(exercises.GRUCellExercise):
    def call(self, inputs, states, training=None):
        h = states[0]
        u = self.units
        x_z, x_r, x_h = ops.split(ops.matmul(inputs, self.W_x) + self.b, 3, axis=-1)
        h_z, h_r = ops.split(ops.matmul(h, self.W_h[:, :2 * u]), 2, axis=-1)
        z, r = ops.sigmoid(x_z + h_z), ops.sigmoid(x_r + h_r)
        candidate = ops.tanh(x_h + ops.matmul(r * h, self.W_h[:, 2 * u:]))
        h = (1 - z) * h + z * candidate
        return h, [h]


class HalfRecurrence(exercises.ElmanCellExercise):  # wrong in no catalogued way
    def call(self, inputs, states, training=None):
        h = ops.tanh(ops.matmul(inputs, self.W_xh) + 0.5 * ops.matmul(states[0], self.W_hh)
                     + self.b_h)
        return h, [h]


class StateNotAList(exercises.ElmanCellExercise):  # right step, wrong state form for RNN
    def call(self, inputs, states, training=None):
        h = ops.tanh(ops.matmul(inputs, self.W_xh) + ops.matmul(states[0], self.W_hh)
                     + self.b_h)
        return h, h + 0.0 * ops.sum(inputs)


class Crashes(exercises.LSTMCellExercise):
    def call(self, inputs, states, training=None):
        h, c = states
        z = ops.matmul(inputs, self.W_h)  # the wrong matrix for x_t: shapes do not fit
        return z, [z, c]


def test_hand_written_mistakes_are_named():
    assert "multiplies h_{t-1} instead of c_{t-1}" in \
        exercises.check_lstm_cell(ForgetGateOnH).message
    assert "z and 1 - z are swapped" in exercises.check_gru_cell(SwappedZ).message


def test_an_uncatalogued_mistake_names_the_wrong_part():
    result = exercises.check_elman_cell(HalfRecurrence)
    assert not result.passed
    assert "the output h_t differs" in result.message
    assert "only W_hh non-zero" in result.message and "W_xh" not in result.message.split(
        "non-zero")[0].split("only")[-1]


def test_learner_exceptions_name_their_line_and_misuse_raises():
    result = exercises.check_lstm_cell(Crashes)
    assert not result.passed
    assert "line" in result.message and "ops.matmul(inputs, self.W_h)" in result.message
    assert "Traceback" not in result.message
    assert exercises.check_elman_cell(StateNotAList).passed  # Keras accepts a bare state too
    with pytest.raises(TypeError, match="derive from seqkeras.exercises.LSTMCellExercise"):
        exercises.check_lstm_cell(ElmanCell)
    with pytest.raises(TypeError, match="check the class itself"):
        exercises.check_lstm_cell(ForgetGateOnH(3))


# --- attention and positions --------------------------------------------------------------

def mistaken_attention(options):
    from seqkeras.exercises.attention import _attention

    def fn(query, key, value, mask=None):
        arrays = [ops.convert_to_numpy(x).astype("float64") for x in (query, key, value)]
        return _attention(*arrays, None if mask is None else ops.convert_to_numpy(mask),
                          **options)
    return fn


def test_attention_checker_passes_the_reference_and_names_every_mistake():
    assert exercises.check_attention(
        lambda q, k, v, mask=None: scaled_dot_product_attention(q, k, v, mask)).passed
    assert len(exercises.ATTENTION_MISTAKES) >= 4
    for mistake, options in exercises.ATTENTION_MISTAKES.items():
        result = exercises.check_attention(mistaken_attention(options))
        assert not result.passed and mistake in result.message, (mistake, result.message)

    def unscaled(q, k, v, mask=None):  # keras.ops, as a learner writes it
        scores = ops.matmul(q, ops.swapaxes(k, -1, -2))
        if mask is not None:
            scores = ops.where(mask, scores, -1e9)
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, v), weights
    assert "not divided by sqrt(d_k)" in exercises.check_attention(unscaled).message

    def leaky(q, k, v, mask=None):  # uncatalogued: masked keys keep a little weight
        scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = ops.where(mask, scores, -3.0)
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, v), weights
    assert "masked key gets a weight above 0" in exercises.check_attention(leaky).message


def test_positional_encoding_checker_names_every_mistake():
    from seqkeras.exercises.attention import _encoding

    assert exercises.check_positional_encoding(_encoding).passed
    for mistake, fn in exercises.POSITION_MISTAKES.items():
        result = exercises.check_positional_encoding(fn)
        assert not result.passed and mistake in result.message, (mistake, result.message)
    result = exercises.check_positional_encoding(lambda n, d: np.zeros((n, d + 1)))
    assert "shape" in result.message
    result = exercises.check_positional_encoding(lambda n, d: 1 / 0)
    assert "ZeroDivisionError at line" in result.message


def test_score_checkers_pass_the_references_and_name_every_mistake():
    from seqkeras.layers import BahdanauAttention, LuongAttention

    additive = type("Solved", (exercises.BahdanauAttentionExercise,),
                    {"score": BahdanauAttention.score})
    luong = type("Solved", (exercises.LuongAttentionExercise,), {"score": LuongAttention.score})
    assert exercises.check_additive_score(additive).passed
    assert exercises.check_luong_scores(luong).passed
    assert "not implemented yet" in exercises.check_luong_scores(
        exercises.LuongAttentionExercise).message

    def learner(base, compute_for):
        def score(self, query, values):
            weights = {v.name: ops.convert_to_numpy(v).astype("float64") for v in self.weights}
            q, h = (ops.convert_to_numpy(x).astype("float64") for x in (query, values))
            return compute_for(self)(q, h, weights)
        return type("Mistaken", (base,), {"score": score})

    assert len(exercises.ADDITIVE_MISTAKES) >= 4
    for mistake, compute in exercises.ADDITIVE_MISTAKES.items():
        result = exercises.check_additive_score(
            learner(exercises.BahdanauAttentionExercise, lambda self, f=compute: f))
        assert not result.passed and mistake in result.message, (mistake, result.message)
    for mistake, (name, compute) in exercises.LUONG_MISTAKES.items():
        def pick(self, name=name, compute=compute):
            return compute if self.score_name == name else (
                lambda q, h, w, own=self.score_name: exercises.attention._luong(q, h, w, own))
        result = exercises.check_luong_scores(learner(exercises.LuongAttentionExercise, pick))
        assert not result.passed and mistake in result.message, (mistake, result.message)


def test_masking_checker_passes_bert_and_names_every_mistake():
    from seqkeras.data import mask_tokens
    from seqkeras.exercises import masking

    def bert(token_ids, vocabulary_size, mask_token_id, rng):
        out = mask_tokens(token_ids, vocabulary_size, mask_token_id, rng)
        selected = np.zeros(token_ids.shape, dtype=bool)
        rows = np.repeat(np.arange(len(token_ids)), out["mask_positions"].shape[1])
        keep = out["mask_weights"].ravel() > 0
        selected[rows[keep], out["mask_positions"].ravel()[keep]] = True
        return out["token_ids"], selected

    result = exercises.check_masking(bert)
    assert result.passed, result.message
    assert len(exercises.MASKING_MISTAKES) >= 4
    for mistake, corrupt in exercises.MASKING_MISTAKES.items():
        result = exercises.check_masking(lambda ids, size, mask, rng, f=corrupt: f(ids, rng))
        assert not result.passed and mistake in result.message, (mistake, result.message)
    # uncatalogued: 15% selected and all masked, but [UNK] (id 3) never selected either
    def odd(ids, size, mask, rng):
        corrupted, selected = masking._corrupt(ids, rng)
        corrupted[selected] = (corrupted[selected] + 1) % size  # never [MASK], never unchanged
        return corrupted, selected
    result = exercises.check_masking(odd)
    assert not result.passed and "[MASK], of the selected" in result.message
    assert "not implemented yet" in exercises.check_masking(
        lambda *a: (_ for _ in ()).throw(NotImplementedError())).message
