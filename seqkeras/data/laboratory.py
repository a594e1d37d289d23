"""The solutions' laboratory task: chapter 5's French -> English verses at a size where one
exercise can train a dozen models on a CPU. Solutions 06s, 07s and 08s share it, so that their
numbers compare with one another."""

from seqkeras.data.translation import TranslationTask, load_translation_task

LABORATORY_MAX_TOKENS = 20  # training verses; chapters 6-8 train on up to 30 or 50
LABORATORY_MAX_TEST_TOKENS = 40  # twice the training length, as the chapters test
LABORATORY_TARGET_VOCABULARY = 2_000  # half of chapter 5's English words
LABORATORY_TEST_PAIRS = 400  # spread evenly over the test lengths


def load_laboratory_task(fast: bool = False, verbose: bool = True) -> TranslationTask:
    """Chapter 5's task, smaller: every training verse of at most 20 English tokens, test
    verses of up to 40 (400 of them, spread evenly over the lengths), the 2,000 most frequent
    English words.

    Args:
        fast: the notebooks' fast mode: the first 256 training and 64 validation verses, and 16
            test verses.
        verbose: print the sizes of the splits and vocabularies.

    Returns:
        The ``TranslationTask`` of ``load_translation_task(20, 40, ...)``.

    Example:

    >>> task = load_laboratory_task(fast=True, verbose=False)
    >>> len(task.train), task.max_length
    (256, 21)
    """
    task = load_translation_task(LABORATORY_MAX_TOKENS, LABORATORY_MAX_TEST_TOKENS, min_count=2,
                                 max_target_vocabulary=LABORATORY_TARGET_VOCABULARY,
                                 max_train_pairs=256 if fast else None,
                                 max_validation_pairs=64 if fast else None,
                                 max_test_pairs=16 if fast else LABORATORY_TEST_PAIRS)
    if verbose:
        print(f"{len(task.train):,} training verses (<= {LABORATORY_MAX_TOKENS} tokens), "
              f"{len(task.validation):,} validation, {len(task.test):,} test "
              f"(<= {LABORATORY_MAX_TEST_TOKENS}); vocabulary {len(task.source_vocab):,} French, "
              f"{len(task.target_vocab):,} English")
    return task
