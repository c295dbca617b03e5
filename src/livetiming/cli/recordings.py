"""`livetiming-recordings`: the recordings catalogue as a standalone component."""
import sys
from typing import List, Optional

from ..orchestration.catalogue_session import CatalogueSession
from .component import run_component


def main(argv: Optional[List[str]] = None) -> int:
    return run_component("livetiming-recordings", "Serve the catalogue of finished recordings "
                         "(livetiming.recordings.*) and keep its index fresh.", CatalogueSession, argv)


if __name__ == "__main__":
    sys.exit(main())
