"""`python -m services` is `lacak`."""

from services.cli import main

if __name__ == "__main__":  # not in a process spawned from one (`replay_apart`)
    main()
