"""Run every ```python block of Markdown pages in a fresh interpreter and write its
stdout into the ```text block that follows it; exit 1 if any block fails.

Usage: python docs/_run_guide.py docs/quickstart.md docs/user_guide/*.md

The interpreter is the one running this script. Blocks run in /tmp with the caller's
environment, so the real-data snippets need SKRNN_DATA_DIR.
"""

import re
import subprocess
import sys
import time

BLOCK = re.compile(
    r"```python\n(.*?)```\n(\s*\n?(?:Output:\n\n)?```text\n(.*?)```\n)?", re.S
)


def run_page(path):
    """Rerun the blocks of one page, rewrite it; return the number that failed."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    out, pos, failed = [], 0, 0
    for i, m in enumerate(BLOCK.finditer(src)):
        code = m.group(1)
        start = time.time()
        r = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd="/tmp"
        )
        print(
            f"{path} block {i}: rc={r.returncode} {time.time() - start:.1f}s",
            file=sys.stderr,
        )
        if r.returncode:
            failed += 1
            print(code, r.stdout, r.stderr, sep="\n---\n", file=sys.stderr)
        out.append(src[pos : m.start()])
        if m.group(2) is not None:
            block = m.group(0)
            text_start = block.index("```text\n", len("```python\n") + len(code))
            out.append(block[: text_start + len("```text\n")] + r.stdout + "```\n")
        else:
            out.append(m.group(0))
        pos = m.end()
    out.append(src[pos:])
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))
    return failed


if __name__ == "__main__":
    sys.exit(1 if sum(run_page(path) for path in sys.argv[1:]) else 0)
