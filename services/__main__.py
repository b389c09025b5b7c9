"""`python -m services` is `lacak`."""

from services.cli import main

main()
