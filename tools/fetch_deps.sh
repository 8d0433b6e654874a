#!/usr/bin/env bash
# Downloads the .deb files of pmsdsen's build dependencies (GoogleTest's sources,
# nlohmann-json, stb) into build-deps/debs/, for a machine that has no network, such as
# a lent GPU machine: carry build-deps/ there (it is git-ignored) and tools/setup.sh
# unpacks them and builds GoogleTest with that machine's compiler (tools/setup_carried.sh).
# Run on a Debian/Ubuntu machine with apt and a network.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build-deps/debs
cd build-deps/debs
apt-get download googletest nlohmann-json3-dev libstb-dev
ls -l
echo "fetch_deps: $(ls | wc -l) packages in build-deps/debs ($(du -sh . | cut -f1))"
