"""`livetiming-directory`: the directory as a standalone component."""
import sys
from typing import List, Optional

from ..orchestration.directory import DirectorySession
from .component import run_component


def main(argv: Optional[List[str]] = None) -> int:
    return run_component("livetiming-directory", "Track the live services of the network.", DirectorySession, argv)


if __name__ == "__main__":
    sys.exit(main())
