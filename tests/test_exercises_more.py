"""The checkers of labs 4, 5, 8 (multi-head), 10 and 11: a right implementation passes, every
catalogued mistake is caught and named, an uncatalogued one is caught with the wrong part named,
and broken code gives a message about the learner's own line."""

import pytest
from keras import ops

from seqkeras import exercises
from seqkeras.exercises import bert as exercise_bert
from seqkeras.exercises import multi_head as exercise_multi_head
from seqkeras.layers import BertEmbeddings, MultiHeadAttention
from seqkeras.losses import soft_target_loss


def bidirectional(forward, backward, inputs, mask=None):
    reversed_mask = None if mask is None else ops.flip(mask, axis=1)
    backward_outputs = backward(ops.flip(inputs, axis=1), mask=reversed_mask)
    return ops.concatenate([forward(inputs, mask=mask), ops.flip(backward_outputs, axis=1)], -1)


def fixed_vector(cell, inputs, mask=None):
    h = ops.zeros((ops.shape(inputs)[0], cell.units))
    c = ops.zeros_like(h)
    for t in range(inputs.shape[1]):
        _, (h_new, c_new) = cell(inputs[:, t], [h, c])
        real = ops.ones_like(h_new[:, :1], "bool") if mask is None else mask[:, t, None]
        h, c = ops.where(real, h_new, h), ops.where(real, c_new, c)
    return [h, c]


FUNCTIONS = {  # checker, a right answer, the catalogue (written with the learner's signature)
    "bidirectional": (exercises.check_bidirectional, bidirectional,
                      exercises.BIDIRECTIONAL_MISTAKES),
    "fixed vector": (exercises.check_fixed_vector, fixed_vector,
                     exercises.FIXED_VECTOR_MISTAKES),
    "soft targets": (exercises.check_soft_target_loss, soft_target_loss,
                     exercises.SOFT_TARGET_MISTAKES),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_checkers_pass_the_answer_and_name_every_mistake(name, capsys):
    check, answer, mistakes = FUNCTIONS[name]
    assert check(answer).passed
    assert "[PASSED]" in capsys.readouterr().out
    assert len(mistakes) >= 4
    for mistake, fn in mistakes.items():
        result = check(fn)
        assert not result.passed and mistake in result.message, (mistake, result.message)

    def skeleton(*args):
        raise NotImplementedError("write it")
    assert "not implemented yet" in check(skeleton).message
    with pytest.raises(TypeError, match="check the function itself"):
        check("my function")


def test_function_checkers_name_the_wrong_part_and_the_learners_line():
    def forward_twice(forward, backward, inputs, mask=None):
        return ops.concatenate([forward(inputs, mask=mask)] * 2, axis=-1)
    message = exercises.check_bidirectional(forward_twice).message
    assert "the output at the real positions differs" in message
    assert "the forward half is right, look at the backward one" in message

    def last_column(cell, inputs, mask=None):  # ignores the mask and never runs the cell
        return [inputs[:, -1, :3], inputs[:, -1, 1:]]
    message = exercises.check_fixed_vector(last_column).message
    assert "h_T differs" in message and "c_T differs" in message

    def crashes(forward, backward, inputs, mask=None):
        return ops.concatenate([forward(inputs), backward(inputs)[:, :2]], axis=-1)
    message = exercises.check_bidirectional(crashes).message
    assert "backward(inputs)[:, :2]" in message and "Traceback" not in message

    assert "the loss must be a scalar" in exercises.check_soft_target_loss(
        lambda s, t, temperature: ops.sum(t * s, axis=-1)).message


# --- multi-head attention and BERT's embeddings: classes ---------------------------------

class RightMultiHead(exercises.MultiHeadAttentionExercise):
    def call(self, query, value, key=None, attention_mask=None):
        return MultiHeadAttention.call(self, query, value, key, attention_mask=attention_mask)


def multi_head_from_catalogue(options):
    class Mistaken(exercises.MultiHeadAttentionExercise):
        def call(self, query, value, key=None, attention_mask=None):
            weights = {v.name: ops.convert_to_numpy(v).astype("float64") for v in self.weights}
            arrays = [ops.convert_to_numpy(x).astype("float64")
                      for x in (query, value, value if key is None else key)]
            mask = None if attention_mask is None else ops.convert_to_numpy(attention_mask)
            return exercise_multi_head._multi_head(weights, *arrays, mask, **options)
    return Mistaken


class RightEmbeddings(exercises.BertEmbeddingsExercise):
    def call(self, token_ids, segment_ids, training=None):
        return BertEmbeddings.call(self, token_ids, segment_ids, training=training)


def embeddings_from_catalogue(options):
    class Mistaken(exercises.BertEmbeddingsExercise):
        def call(self, token_ids, segment_ids, training=None):
            x = exercise_bert._embeddings(exercise_bert._weights(self),
                                          ops.convert_to_numpy(token_ids),
                                          ops.convert_to_numpy(segment_ids), **options)
            return self.dropout_layer(ops.convert_to_tensor(x.astype("float32")),
                                      training=training)
    return Mistaken


CLASSES = {
    "multi-head": (exercises.check_multi_head_attention, exercises.MultiHeadAttentionExercise,
                   RightMultiHead, exercises.MULTI_HEAD_MISTAKES, multi_head_from_catalogue),
    "embeddings": (exercises.check_bert_embeddings, exercises.BertEmbeddingsExercise,
                   RightEmbeddings, exercises.EMBEDDING_MISTAKES, embeddings_from_catalogue),
}


@pytest.mark.parametrize("name", CLASSES)
def test_class_checkers_pass_the_answer_and_name_every_mistake(name):
    check, base, right, mistakes, mistaken = CLASSES[name]
    assert "not implemented yet" in check(base).message
    assert check(right).passed
    assert len(mistakes) >= 4
    for mistake, options in mistakes.items():
        result = check(mistaken(options))
        assert not result.passed and mistake in result.message, (mistake, result.message)


def test_class_checkers_refuse_misuse_and_report_shapes_and_dropout():
    with pytest.raises(TypeError, match="check the class itself"):
        exercises.check_multi_head_attention(RightMultiHead(2, 4))
    with pytest.raises(TypeError, match="must derive from"):
        exercises.check_bert_embeddings(BertEmbeddings)

    class ConcatenatedHeads(exercises.MultiHeadAttentionExercise):  # (batch, T_q, h, d_v)
        def call(self, query, value, key=None, attention_mask=None):
            return ops.einsum("btd,dhk->bthk", value[:, :3], self.W_V)
    assert "has shape" in exercises.check_multi_head_attention(ConcatenatedHeads).message

    class NoDropout(exercises.BertEmbeddingsExercise):
        def call(self, token_ids, segment_ids, training=None):
            return BertEmbeddings.call(self, token_ids, segment_ids, training=False)
    assert "dropout is missing" in exercises.check_bert_embeddings(NoDropout).message
