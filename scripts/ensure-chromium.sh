#!/usr/bin/env bash
# Makes sure the Chromium that the end-to-end page tests drive is installed.
# The tests use the distribution's chromium (through playwright-core) because a
# test tool's own browser download cannot be relied on: Debian's package is
# what a machine here can install. Does nothing when it is already there, so a
# machine without network that has it runs the tests as usual.
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

say() { printf '[chromium] %s\n' "$*"; }

if [[ -x "$CHROMIUM_PATH" ]]; then exit 0; fi

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  say "$CHROMIUM_PATH is missing, and installing it needs root on Debian/Ubuntu."
  say "Install it yourself (apt-get install chromium), or point CHROMIUM_PATH at a Chromium or Chrome binary."
  exit 1
fi

say "$CHROMIUM_PATH is missing: installing Debian's chromium (apt-get update, then install)"
if ! apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
  say "apt-get could not install chromium (is the package registry reachable?)"
  exit 1
fi
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  say "apt-get installed chromium, but $CHROMIUM_PATH is still missing"
  exit 1
fi
say "installed $("$CHROMIUM_PATH" --version 2>/dev/null || echo chromium)"
