"""The user's own model: a builder `(input_shape, num_classes, seed) -> keras.Model`, given as a
callable or as an import path 'package.module:function'. Each check raises a one-line
AugSearchError starting with "model " (the CLI rewrites it to "--model ")."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Hashable
from typing import Any

import keras

from space.budget import builder_name
from space.errors import AugSearchError, first_line, require

IMPORT_PATH = "'package.module:function'"
_IMPORTABLE = f"an import path {IMPORT_PATH} naming a function in a module on sys.path (e.g. via PYTHONPATH)"


def fingerprint(builder: Callable) -> Hashable:
    """What tells builders of the same name apart: a function's code object, which compares by
    content (equal for a function pickled by value to a Ray worker, unequal once its source was
    edited and run again, as in a notebook), else the callable itself."""
    return getattr(builder, "__code__", builder)


def _shown(model: Any) -> str:
    # A callable's repr holds its address; its import-path-like name is what the user recognises.
    return repr(model if isinstance(model, str) or not callable(model) else builder_name(model))


def _first_line(error: BaseException) -> str:
    text = first_line(str(error))
    # ImportError and AttributeError say what is missing by themselves; others need their type.
    return text if isinstance(error, (ImportError, AttributeError)) and text else f"{type(error).__name__}: {text}"


def resolve(model: Any) -> Callable:
    """The builder: `model` itself when callable, else the function its import path names (imported
    now). Raises AugSearchError for anything else, a malformed path, or one that cannot be imported."""
    if not isinstance(model, str):
        require(
            callable(model),
            "model",
            model,
            f"a model name, an import path {IMPORT_PATH} or a callable (input_shape, num_classes, seed) -> keras.Model",
        )
        return model
    module_name, colon, attributes = model.partition(":")
    names = module_name.split(".") + attributes.split(".")
    require(
        bool(colon) and all(name.isidentifier() for name in names),
        "model",
        model,
        f"an import path {IMPORT_PATH} (dotted Python names around one colon)",
    )
    try:
        target = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            target = getattr(target, attribute)
    # Importing runs the user's module, which may raise anything; each case means "cannot import".
    except Exception as error:
        raise AugSearchError(
            f"model cannot be imported: {_first_line(error)} (model={model!r}); expected {_IMPORTABLE}."
        ) from error
    if not callable(target):
        raise AugSearchError(
            f"model must name a callable (input_shape, num_classes, seed) -> keras.Model, but got "
            f"model={model!r}, which is a value of type {type(target).__name__}."
        )
    return target


def check_signature(builder: Callable, model: Any) -> None:
    """Raise AugSearchError unless `builder` accepts (input_shape, num_classes, seed) positionally."""
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):  # some C callables have no signature: calling them will tell
        return
    try:
        signature.bind((32, 32, 3), 10, 1)
    except TypeError:
        raise AugSearchError(
            f"model must accept three positional arguments (input_shape, num_classes, seed), but got "
            f"model={_shown(model)} with signature {signature}."
        ) from None


def call_for_check(builder: Callable, model: Any, input_shape: tuple, num_classes: int) -> Any:
    """builder(input_shape, num_classes, 1); what it raises becomes a one-line AugSearchError."""
    try:
        return builder(input_shape, num_classes, 1)
    # The user's code may raise anything; the chained error keeps its traceback.
    except Exception as error:
        raise AugSearchError(
            f"model must build a keras.Model when called as model({input_shape}, {num_classes}, 1), but got "
            f"model={_shown(model)}, which raised {_first_line(error)}."
        ) from error


def require_keras_model(net: Any, model: Any) -> None:
    """Raise AugSearchError unless what the builder returned is a keras.Model."""
    if not isinstance(net, keras.Model):
        raise AugSearchError(
            f"model must return a keras.Model from (input_shape, num_classes, seed), but got "
            f"model={_shown(model)}, which returned a value of type {type(net).__name__}."
        )


def require_output_shape(net: keras.Model, model: Any, input_shape: tuple, num_classes: int) -> None:
    """Raise AugSearchError unless `net` outputs (None, num_classes) class probabilities."""
    shape = _output_shape(net, input_shape)
    if shape != (None, num_classes):
        raise AugSearchError(
            f"model must output class probabilities of shape (None, {num_classes}), but got "
            f"model={_shown(model)}, whose output shape is {shape}."
        )


def _output_shape(net: keras.Model, input_shape: tuple) -> Any:
    try:
        return net.output_shape  # a functional or Sequential model knows it
    except (AttributeError, ValueError, RuntimeError):  # a subclassed model that is not built yet
        spec = net.compute_output_spec(keras.KerasTensor((None, *input_shape)))
        return keras.tree.map_structure(lambda tensor: tensor.shape, spec)
