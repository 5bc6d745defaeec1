"""scikit-learn-style parameter access and cloning shared by every estimator of the package."""

from __future__ import annotations

import inspect


class ParamsMixin:
    """``get_params`` / ``set_params`` / ``__repr__`` from the ``__init__`` signature.

    As in scikit-learn, ``__init__`` stores each parameter under its own name.
    """

    def get_params(self) -> dict:
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    def set_params(self, **params):
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{key!r} is not a parameter of {type(self).__name__}; valid: {sorted(valid)}.")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if not hasattr(v, "shape"))
        return f"{type(self).__name__}({args})"


def _clone_param(value):
    if isinstance(value, ParamsMixin):
        return clone(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, ParamsMixin) for v in value):
        return type(value)(_clone_param(v) for v in value)
    if isinstance(value, dict) and any(isinstance(v, ParamsMixin) for v in value.values()):
        return {k: _clone_param(v) for k, v in value.items()}
    return value


def clone(estimator: ParamsMixin, **params) -> ParamsMixin:
    """An unfitted copy of ``estimator`` with the same parameters (``params`` override them).

    As :func:`sklearn.base.clone`: nested estimators (also inside lists, tuples and dicts)
    are cloned too, so fitting the copy never changes the original; other parameter
    values (item embeddings, arrays) are shared, not copied — the package never mutates them.

    Parameters
    ----------
    estimator : ParamsMixin
        Any recommender, re-ranker or other estimator of the package.
    **params
        Parameters to set on the copy.
    """
    if not isinstance(estimator, ParamsMixin):
        raise TypeError(f"estimator must be a filmrec_toolkit estimator (with get_params), got "
                        f"{type(estimator).__name__}.")
    current = {k: _clone_param(v) for k, v in estimator.get_params().items()}
    unknown = sorted(set(params) - set(current))
    if unknown:
        raise ValueError(f"{unknown} are not parameters of {type(estimator).__name__}; valid: {sorted(current)}.")
    current.update(params)
    return type(estimator)(**current)
