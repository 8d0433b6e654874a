#!/usr/bin/env bash
# The build's packages without a network: unpacks the .deb files carried in
# build-deps/debs/ (made by tools/fetch_deps.sh) into build-deps/root/ and builds
# GoogleTest there from its sources with this machine's compiler. tools/build.sh then
# finds them in build-deps/root/. tools/setup.sh runs this when apt cannot install.
#   tools/setup_carried.sh           only when a package is missing
#   tools/setup_carried.sh --force   also when the system has them (to test this path)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PREFIX="$ROOT/build-deps/root"

missing_packages() {
  local missing=()
  [[ -n $(find /usr/include /usr/local/include "$PREFIX/usr/include" -name json.hpp -path '*nlohmann*' 2>/dev/null | head -1) ]] || missing+=(nlohmann-json3-dev)
  [[ -n $(find /usr/include /usr/local/include "$PREFIX/usr/include" -name stb_image.h 2>/dev/null | head -1) ]] || missing+=(libstb-dev)
  [[ -n $(find /usr/lib /usr/local/lib /usr/lib64 "$PREFIX/usr/lib" -name 'libgtest.a' -o -name 'libgtest.so' 2>/dev/null | head -1) ]] || missing+=(libgtest-dev)
  echo "${missing[*]}"
}

unpack_deb() {  # DEB DIR: dpkg -x, or ar + tar where there is no dpkg
  if command -v dpkg >/dev/null; then dpkg -x "$1" "$2"; return; fi
  local member
  member=$(ar t "$1" | grep '^data\.tar') || return 1
  case $member in
    *.xz) ar p "$1" "$member" | tar -xJ -C "$2" ;;
    *.zst) ar p "$1" "$member" | zstd -dc | tar -x -C "$2" ;;
    *.gz) ar p "$1" "$member" | tar -xz -C "$2" ;;
    *) ar p "$1" "$member" | tar -x -C "$2" ;;
  esac
}

missing=$(missing_packages)
[[ ${1:-} == --force ]] && missing="${missing:-(forced)}"
if [[ -z $missing ]]; then echo "setup_carried: nothing missing"; exit 0; fi
ls "$ROOT"/build-deps/debs/*.deb >/dev/null 2>&1 ||
  { echo "setup_carried: missing $missing and no build-deps/debs/*.deb: run tools/fetch_deps.sh on a machine with a network and carry build-deps/" >&2; exit 1; }
rm -rf "$PREFIX"; mkdir -p "$PREFIX"
for deb in "$ROOT"/build-deps/debs/*.deb; do echo "setup_carried: unpacking $(basename "$deb")"; unpack_deb "$deb" "$PREFIX"; done
if [[ -f "$PREFIX/usr/src/googletest/CMakeLists.txt" ]]; then
  echo "setup_carried: building GoogleTest from source"
  cmake -S "$PREFIX/usr/src/googletest" -B "$ROOT/build-deps/gtest-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX/usr" -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON >/dev/null
  cmake --build "$ROOT/build-deps/gtest-build" -j "$(nproc)" >/dev/null
  cmake --install "$ROOT/build-deps/gtest-build" >/dev/null
fi
missing=$(PREFIX=$PREFIX missing_packages)
[[ -z $missing ]] || { echo "setup_carried: still missing after unpacking: $missing" >&2; exit 1; }
echo "setup_carried: packages in $PREFIX (tools/build.sh uses them)"
