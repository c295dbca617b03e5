"""`livetiming-dvr`: the DVR as a standalone component."""
import sys
from typing import List, Optional

from ..orchestration.dvr_session import DVRSession
from .component import run_component


def main(argv: Optional[List[str]] = None) -> int:
    return run_component("livetiming-dvr", "Record every service of the network.", DVRSession, argv)


if __name__ == "__main__":
    sys.exit(main())
