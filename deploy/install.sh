#!/bin/sh
# Install Lacak from this checkout into .venv beside it: the pinned Python packages and the
# browser libraries the web serves (no CDN). What the image (deploy/Dockerfile) runs and what a
# bare server runs before the systemd units (deploy/systemd/); tests/deploy/test_deploy.py runs
# it on a fresh copy of the repository in CI, as Docker is not on those machines.
set -eu
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --no-cache-dir --quiet --editable .
npm ci --prefix web --omit=dev --no-audit --no-fund
.venv/bin/lacak --help > /dev/null
