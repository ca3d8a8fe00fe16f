"""Text for readers: the one place where results become words (STYLE.md rule 8).

The CLI prints these strings and the report typesets them; code never selects anything by
them (evidence rows carry a structured RowKey).
"""

from .estimates import interval_text, percent_text, ratio_text
from .rows import drift_word, headline, number, row_name, row_summary, sign_map_text, verification_json
from .montecarlo import montecarlo_text
from .terminal import MARK, terminal_width, verdict_table

__all__ = ["row_name", "row_summary", "headline", "verification_json", "drift_word", "interval_text", "percent_text", "ratio_text", "number",
           "sign_map_text", "montecarlo_text", "verdict_table", "terminal_width", "MARK"]
