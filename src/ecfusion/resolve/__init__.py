"""Entity resolution: OneID for members and standard SKUs for products (T/JNBDA 0003-2025 4.3.6 b, 6.1.3).

Reads the unified tables, combines rule, similarity (Splink) and graph matching in one identity
graph with guards against collapse, keeps ids stable across runs, explains every link, honours
reviewer decisions, and writes the ``fused`` schema.

    from ecfusion.resolve import run, explain, evaluate
    summary = run(workspace)                       # ResolveSummary
    explain(workspace, "taobao:tb1", "jd:jd9")     # Explanation
    evaluate(workspace, "DIR/truth")               # {"members": Scores, "products": Scores}
"""

from ecfusion.resolve.evaluate import Scores, evaluate
from ecfusion.resolve.explain import Explanation, explain
from ecfusion.resolve.ledger import Ledger, ReviewItem
from ecfusion.resolve.pipeline import ResolveSummary, run

__all__ = ["Explanation", "Ledger", "ResolveSummary", "ReviewItem", "Scores", "evaluate", "explain", "run"]
