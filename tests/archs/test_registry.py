"""The registry of architectures and the option table: every consumer reads the same entries."""

import argparse
import inspect

import numpy as np
import pytest

from driftproof import api
from driftproof.archs import NAMES, families, get_arch
from driftproof.commands import train as train_command
from driftproof.config import Config
from driftproof.data import DATASETS
from driftproof.errors import InputError
from driftproof.nets import build_net
from driftproof.training.options import OPTIONS, TRAIN_OPTIONS
from driftproof.training.spec import TrainSpec

PER_ARCH = {name for name, option in OPTIONS.items() if option.per_arch}


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_is_complete(name):
    arch = get_arch(name)
    assert arch.name == name and arch.title and arch.help and arch.family in families()
    assert arch.datasets and set(arch.datasets) <= set(DATASETS)
    assert PER_ARCH | {"depth"} <= set(arch.train_defaults)
    assert {source.kind for source in arch.sources()} <= {"symbolic", "montecarlo", "training"}
    # its training defaults make a valid spec on its default data
    TrainSpec(arch=name, **{key: arch.train_defaults[key] for key in PER_ARCH})


def test_unknown_architecture_is_one_clear_error():
    with pytest.raises(InputError, match="arch must be one of mlp, resmlp, gpt, vit"):
        get_arch("cnn")


def test_shape_options_belong_to_their_architecture():
    config = Config(width=8, depth=1, classes=3, input_dim=4)
    with pytest.raises(InputError, match="heads do not apply to arch 'mlp'"):
        build_net("mlp", config, rng=np.random.default_rng(0), heads=2)


def test_families_group_the_architectures():
    assert families()["mlp"] == ("mlp", "resmlp")
    assert {name for group in families().values() for name in group} == set(NAMES)


def test_options_are_declared_once():
    """The CLI's options, the API's keyword arguments and TrainSpec's fields come from the same table, with the
    same defaults (None in the API and the CLI where the architecture gives the default)."""
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    cli = {action.dest: action.default for action in parser._actions}
    api_defaults = {name: p.default for name, p in inspect.signature(api.train).parameters.items()}
    spec = TrainSpec()
    for option in TRAIN_OPTIONS:
        expected = None if option.per_arch else option.default
        assert cli[option.name] == expected and api_defaults[option.name] == expected, option.name
        assert getattr(spec, option.name) == (get_arch("mlp").train_defaults[option.name] if option.per_arch
                                             else option.default)
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepz'"):
        api.train(stepz=3)

