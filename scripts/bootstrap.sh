#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (Debian with Node 20, Java 17, Maven):
# pnpm at the pinned version and the workspace's dependencies. The Kafka broker jars are
# resolved by Maven on first use (`bin/crm up`, the test run), into infra/kafka/libs.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=9.15.9

need() { command -v "$1" >/dev/null 2>&1 || { echo "bootstrap: '$1' is missing: $2" >&2; exit 1; }; }
need node "install Node.js 20 or newer"
need java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
need mvn "install Apache Maven (Debian: apt-get install maven)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "bootstrap: Node.js $(node --version) is too old; install Node.js 20 or newer" >&2; exit 1; }

need python3 "install Python 3 (Debian: apt-get install python3)"

# corepack's signature check fails on some machines; a pinned global install does not.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v '^Progress' >&2 || true
test -d node_modules/.pnpm || { echo "bootstrap: pnpm install failed" >&2; exit 1; }

# bin/crm runs the CLI from a bundle it builds when a source changed; building it here shows a
# broken toolchain now rather than at the first command.
bin/crm --help >/dev/null || { echo "bootstrap: bin/crm does not start" >&2; exit 1; }

# Python clients the tests drive the system with, installed into .local/python with --target, so
# neither a virtualenv nor a system site (PEP 668 on Debian) is needed:
# - confluent-kafka: the codec tests produce as platforms do, with librdkafka (its wheels carry
#   librdkafka with every codec);
# - clickhouse-connect and pandas: the interoperability test drives the ClickHouse host as a
#   notebook does (services/clickhouse-host/test/interop.test.ts);
# - lifetimes: the scoring benchmark's peer (bench/lifetimes-peer.py). Its last release (0.11.3,
#   2020) declares no upper bounds; these pins are a set it was measured to work with unpatched.
PYTHON_PACKAGES=('confluent-kafka>=2.3,<3' 'clickhouse-connect>=0.8,<1' 'pandas>=2,<3'
  'lifetimes==0.11.3' 'autograd==1.8.0' 'scipy==1.16.3' 'dill==0.4.1')
if ! PYTHONPATH=.local/python python3 -c 'import confluent_kafka, clickhouse_connect, pandas, lifetimes' >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "bootstrap: installing python3-pip" >&2
      (apt-get update -qq && apt-get install -y -qq python3-pip) >&2
    else
      echo "bootstrap: pip for Python 3 is missing (Debian: apt-get install python3-pip)" >&2; exit 1
    fi
  fi
  echo "bootstrap: installing ${PYTHON_PACKAGES[*]} into .local/python" >&2
  python3 -m pip install --quiet --disable-pip-version-check --upgrade --target .local/python "${PYTHON_PACKAGES[@]}" >&2
fi

# The reference zstd and lz4 tools write the compressed bodies the ClickHouse host's compression
# tests send (services/clickhouse-host/test/compression.test.ts); without them those cases skip.
if ! command -v zstd >/dev/null 2>&1 || ! command -v lz4 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing zstd and lz4" >&2
    (apt-get update -qq && apt-get install -y -qq zstd lz4) >&2 || echo "bootstrap: zstd/lz4 could not be installed; their test cases will skip" >&2
  else
    echo "bootstrap: zstd or lz4 is missing (Debian: apt-get install zstd lz4); their test cases will skip" >&2
  fi
fi

# Debian's Chromium renders the dashboard in its browser test (services/web/test/pages.browser.test.ts,
# driven by puppeteer-core, which downloads no browser); without it that test skips, saying so.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing chromium" >&2
    (apt-get update -qq && apt-get install -y -qq chromium) >&2 || echo "bootstrap: chromium could not be installed; the dashboard's browser test will skip" >&2
  else
    echo "bootstrap: chromium is missing (Debian: apt-get install chromium); the dashboard's browser test will skip" >&2
  fi
fi
