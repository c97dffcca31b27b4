"""What the benchmarks' command lines share."""


def split_names(models):
    """The names in a ``--models`` list: split at the commas outside
    parentheses, since the names hold parameter lists."""
    names, depth, start = [], 0, 0
    for i, char in enumerate(models):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            names.append(models[start:i].strip())
            start = i + 1
    return [*names, models[start:].strip()]
