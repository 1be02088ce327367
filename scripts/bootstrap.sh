#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (Debian with Node 20, Java 17, Maven):
# pnpm at the pinned version and the workspace's dependencies. The Kafka broker jars are
# resolved by Maven on first use (`pnpm crm up`, the test run), into infra/kafka/libs.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=9.15.9

need() { command -v "$1" >/dev/null 2>&1 || { echo "bootstrap: '$1' is missing: $2" >&2; exit 1; }; }
need node "install Node.js 20 or newer"
need java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
need mvn "install Apache Maven (Debian: apt-get install maven)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "bootstrap: Node.js $(node --version) is too old; install Node.js 20 or newer" >&2; exit 1; }

# corepack's signature check fails on some machines; a pinned global install does not.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v '^Progress' >&2 || true
test -d node_modules/.pnpm || { echo "bootstrap: pnpm install failed" >&2; exit 1; }
