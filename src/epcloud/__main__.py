import sys

from epcloud.cli import main

sys.exit(main())
