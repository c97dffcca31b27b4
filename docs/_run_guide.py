"""Run every ```python block of a markdown file in a fresh interpreter and write its
stdout into the ```text block that follows it; exit 1 if any block fails.

Usage: python docs/_run_guide.py docs/user_guide.md [python]
"""

import os
import re
import subprocess
import sys
import time

path = sys.argv[1]
py = sys.argv[2] if len(sys.argv) > 2 else sys.executable
src = open(path).read()
pat = re.compile(
    r"```python\n(.*?)```\n(\s*\n?(?:Output:\n\n)?```text\n(.*?)```\n)?", re.S
)
out, pos, failed = [], 0, 0
env = dict(os.environ)  # real-data snippets need SKRNN_DATA_DIR
for i, m in enumerate(pat.finditer(src)):
    code = m.group(1)
    t = time.time()
    r = subprocess.run(
        [py, "-c", code], capture_output=True, text=True, cwd="/tmp", env=env
    )
    dt = time.time() - t
    print(f"block {i}: rc={r.returncode} {dt:.1f}s", file=sys.stderr)
    if r.returncode:
        failed += 1
        print(code, r.stdout, r.stderr, sep="\n---\n", file=sys.stderr)
    out.append(src[pos : m.start()])
    if m.group(2) is not None:
        block = m.group(0)
        text_start = block.index("```text\n", len("```python\n") + len(code)) + len(
            "```text\n"
        )
        out.append(block[:text_start] + r.stdout + "```\n")
    else:
        out.append(m.group(0))
    pos = m.end()
out.append(src[pos:])
open(path, "w").write("".join(out))
sys.exit(1 if failed else 0)
