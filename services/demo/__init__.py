"""The demo: Kabupaten Serang's tree, a whole distribution scenario, the simulation that moves
the board, the demo's accounts, and the benchmarks. Production code never imports it."""
