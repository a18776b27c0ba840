"""Print the third-party requirements of the given pyproject.toml files, one per line.

The image installs these in a layer of their own, before the runstash wheels, so that a code
change rebuilds only the small wheel layer and not every dependency download.
"""

import sys
import tomllib

OWN = ("runstash",)

seen: set[str] = set()
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for requirement in tomllib.load(f)["project"].get("dependencies", []):
            if not requirement.startswith(OWN) and requirement not in seen:
                seen.add(requirement)
                print(requirement)
