"""What every API function shares: the validated network, progress bars, output folders written whole."""

from __future__ import annotations

from contextlib import contextmanager

from ..config import Config
from ..errors import InputError
from ..folders import output_folder, written_whole

__all__ = ["network_config", "progress_bar", "output_folder", "written_whole"]


def network_config(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
                   depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0) -> Config:
    """The validated network configuration every operation starts from (InputError on bad values)."""
    for name, value in (("loss", loss), ("init", init), ("scale", scale)):
        if not isinstance(value, str):
            raise InputError(f"{name} must be a name (a string), got {value!r}")
    return Config(loss=loss, act=act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                  input_dim=input_dim, seed=seed)


@contextmanager
def progress_bar(progress: bool, total: int, desc: str, unit: str, initial: int = 0):
    """A tqdm bar on stderr (a widget in a notebook: tqdm's auto mode) or None; closed on every exit path."""
    if not progress:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False)
    try:
        yield bar
    finally:
        bar.close()
