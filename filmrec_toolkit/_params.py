"""scikit-learn-style parameter access shared by recommenders and re-rankers."""

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
