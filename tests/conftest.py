import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Fixtures are linted, not run: `AL701_test.py` looks like a test module to pytest.
collect_ignore_glob = ["fixtures/*"]
