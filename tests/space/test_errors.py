import pickle

import pytest

from space.errors import AugSearchError, InvalidArgument, first_line, require


def test_require_words_the_argument_the_value_and_what_was_expected():
    with pytest.raises(AugSearchError, match=r"^epochs must be an integer >= 1, but got epochs=0\.$") as caught:
        require(False, "epochs", 0, "an integer >= 1")
    assert (caught.value.name, caught.value.value, caught.value.expected) == ("epochs", 0, "an integer >= 1")
    require(True, "epochs", 3, "an integer >= 1")  # no error


def test_an_invalid_argument_is_said_again_of_another_name():
    error = InvalidArgument("epochs", 0, "an integer >= 1")
    assert str(error.renamed("target_epochs")) == "target_epochs must be an integer >= 1, but got target_epochs=0."


def test_an_invalid_argument_survives_pickling_as_ray_sends_it():
    error = pickle.loads(pickle.dumps(InvalidArgument("rate", 1.5, "a number in [0, 1]")))
    assert isinstance(error, AugSearchError) and str(error) == "rate must be a number in [0, 1], but got rate=1.5."


def test_first_line_is_what_one_line_messages_show():
    assert first_line(RuntimeError("boom\ntraceback")) == "boom"
    assert first_line(RuntimeError()) == "RuntimeError"
    assert first_line(None, default="unknown") == "unknown"
