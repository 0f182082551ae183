"""The repository's tools/ scripts that run without the oracle."""

from tools.class_vectors import words


def test_class_names_become_words():
    assert words("sitDown") == "sit down"
    assert words("wave_hands") == "wave hands"
    assert words("  Rub  Hand ") == "rub hand"
