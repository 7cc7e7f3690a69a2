import unittest

from textstats import top_words


class TopWordsHiddenTest(unittest.TestCase):
    def test_most_frequent_first_ties_alphabetical(self):
        text = "b a c b a b d"
        self.assertEqual(top_words(text, 3), [("b", 3), ("a", 2), ("c", 1)])

    def test_case_insensitive(self):
        self.assertEqual(top_words("Go go GO stop", 1), [("go", 3)])

    def test_n_larger_than_vocabulary(self):
        self.assertEqual(top_words("x y", 10), [("x", 1), ("y", 1)])

    def test_non_positive_n(self):
        self.assertEqual(top_words("x y", 0), [])
        self.assertEqual(top_words("x y", -2), [])
