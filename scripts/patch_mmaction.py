"""Make the MMAction2 1.2.0 wheel importable (it lacks models/localizers/drn, upstream #2714).

Run with the oracle's interpreter; edits that interpreter's installed mmaction package only.
"""

import importlib.util
import re
from pathlib import Path

spec = importlib.util.find_spec("mmaction")
init = Path(spec.submodule_search_locations[0]) / "models" / "localizers" / "__init__.py"
text = init.read_text()
text = re.sub(r"^from \.drn\.drn import DRN\n", "", text, flags=re.M)
text = text.replace(", 'DRN']", "]")
init.write_text(text)
print(f"patched {init}")
