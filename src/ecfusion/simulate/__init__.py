"""The simulated merchant (issue 2, Build §3): a deterministic generator of one cosmetics brand's
data — 青岚 — exactly as each source delivers it, with known truth (docs/dev/contracts.md §1).

    from ecfusion.simulate import generate, DefectRates
    manifest = generate(Path("demo"), persons=1000, days=90, seed=7)
"""

from ecfusion.simulate.defects import DEFECT_KINDS, DefectRates
from ecfusion.simulate.generate import Manifest, ManifestFile, generate

__all__ = ["DEFECT_KINDS", "DefectRates", "Manifest", "ManifestFile", "generate"]
