"""How command-line tools report user mistakes: one clear line, exit code 2."""
import sys

USAGE_ERROR = 2
FAILURE = 1


def fail(prog: str, message: str, code: int = USAGE_ERROR) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code
