"""Small text statistics."""
import re

_WORD = re.compile(r"[a-z']+")


def words(text):
    """The words of `text`, lowercased, in order."""
    return _WORD.findall(text.lower())


def word_count(text):
    return len(words(text))
