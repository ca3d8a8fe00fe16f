"""The public Python API: the command line's operations as functions, with the same defaults.

Each function takes the command line's options as keyword arguments (``--input-dim`` is
``input_dim``), validates them exactly as the CLI does, and returns a result object that
prints itself (``repr``), shows itself in a notebook (``_repr_html_``), serializes
(``to_dict``/``to_json``) and, where a picture says more, plots itself (``plot()``).
Bad input raises :class:`driftproof.InputError` with the CLI's one-line message. The CLI
(``driftproof/commands/``) is a layer over exactly these functions: parse, call, render.

Modules: ``checks`` (verify, derive, mc), ``training`` (train), ``sweeps`` (sweep, claims),
``reports`` (report, load), ``common`` (what they share).
"""

from ..lazy import lazy_attributes

# name -> the module that defines it, imported on first use: ``verify`` needs neither sweeps nor reports.
_WHERE = {
    **dict.fromkeys(("MODES", "Derivations", "MonteCarloCheck", "derive", "mc", "mc_budget_for", "verify",
                      "verify_budget_for"), "checks"),
    "network_config": "common",
    **dict.fromkeys(("load", "report", "report_summary"), "reports"),
    **dict.fromkeys(("ClaimsCheck", "claims", "sweep"), "sweeps"),
    **dict.fromkeys(("ARCH_DEFAULTS", "TrainingRun", "default_run_folder", "train"), "training"),
    **dict.fromkeys(("atlas", "Atlas", "AtlasRow"), "atlases"),
}

__all__ = ["verify", "verify_budget_for", "derive", "mc", "train", "sweep", "claims", "report", "load", "Derivations",
           "MonteCarloCheck",
           "TrainingRun", "ClaimsCheck", "network_config", "mc_budget_for", "report_summary", "ARCH_DEFAULTS",
           "default_run_folder", "MODES", "atlas", "Atlas", "AtlasRow"]


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _WHERE)
