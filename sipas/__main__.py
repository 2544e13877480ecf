import sys

from sipas.cli import main

sys.exit(main())
