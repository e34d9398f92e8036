#!/usr/bin/env python3
"""Print a notebook's code cells and their text outputs (for reviewing executed notebooks)."""

import json
import sys

for path in sys.argv[1:]:
    nb = json.load(open(path))
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        print(">>>", src[:80].replace("\n", " | "))
        for o in c.get("outputs", []):
            if "text" in o:
                print("".join(o["text"])[:800])
            elif "data" in o:
                d = o["data"]
                print("  [", ", ".join(sorted(d)), "]", "".join(d.get("text/plain", ""))[:200])
            elif o.get("output_type") == "error":
                print("  ERROR", o["ename"], o["evalue"][:300])
