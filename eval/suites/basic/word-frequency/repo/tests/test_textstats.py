import unittest

from textstats import word_count, words


class WordsTest(unittest.TestCase):
    def test_lowercases_and_splits(self):
        self.assertEqual(words("The cat's hat, the END"), ["the", "cat's", "hat", "the", "end"])

    def test_counts(self):
        self.assertEqual(word_count("one two  three"), 3)
