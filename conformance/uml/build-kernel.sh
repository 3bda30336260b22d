#!/usr/bin/env bash
# Build a User-Mode Linux kernel with time travel for tracewright's
# `uml:KERNEL` target, from Debian's linux-source-VERSION package.
#
#   conformance/uml/build-kernel.sh 6.1     # or 6.12
#
# Prints the path of the kernel binary on stdout, everything else on stderr.
# Kernels live outside the clone, in
# ${TRACEWRIGHT_CACHE:-$HOME/.cache/tracewright}/uml/linux-VERSION/linux;
# a second run with the same config fragment and the same source package
# does not rebuild. Two runs at once are safe: the second waits for the
# first (flock) and then finds its kernel built.
#
# Needs root for apt-get (linux-source-VERSION, bc, flex, bison, libelf-dev)
# unless those are installed. JOBS (default: the number of cores) is make's -j.
set -euo pipefail

version=${1:-}
case $version in
  6.1 | 6.12) ;;
  *)
    echo "usage: $0 6.1|6.12" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/config.fragment
cache=${TRACEWRIGHT_CACHE:-$HOME/.cache/tracewright}/uml
dest=$cache/linux-$version
build=$cache/build-$version
jobs=${JOBS:-$(nproc)}
pkg=linux-source-$version
tarball=/usr/src/$pkg.tar.xz

mkdir -p "$cache"
exec 9>"$cache/linux-$version.lock"
flock 9

frag_hash=$(sha256sum <"$fragment" | cut -d' ' -f1)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# A kernel built from this fragment, when the source package is not even
# installed (a restored cache on a fresh machine): nothing to compare it to.
if ! installed "$pkg" && [[ -x $dest/linux && -f $dest/stamp && $(cat "$dest/stamp") == *" fragment $frag_hash" ]]; then
  echo "build-kernel.sh: reusing $dest/linux ($(cut -d' ' -f1-2 "$dest/stamp"))" >&2
  echo "$dest/linux"
  exit 0
fi

# Install what is missing. dpkg-query answers without root.
need=()
for p in "$pkg" bc flex bison libelf-dev make gcc; do
  installed "$p" || need+=("$p")
done
if ((${#need[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "build-kernel.sh: missing packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "build-kernel.sh: apt-get install ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2; }
fi

# What the kernel is built from: the source package's exact version and the
# fragment. A change to either rebuilds.
src_version=$(dpkg-query -W -f='${Version}' "$pkg")
stamp="$pkg $src_version fragment $frag_hash"
if [[ -x $dest/linux && -f $dest/stamp && $(cat "$dest/stamp") == "$stamp" ]]; then
  echo "build-kernel.sh: $dest/linux is up to date ($pkg $src_version)" >&2
  echo "$dest/linux"
  exit 0
fi

start=$(date +%s)
echo "build-kernel.sh: building UML $pkg $src_version in $build (make -j$jobs)" >&2
rm -rf "$build"
mkdir -p "$build"
tar -C "$build" -xaf "$tarball"
cd "$build/$pkg"

hz=$(sed -n 's/^HZ=\([0-9]*\)$/\1/p' "$fragment")
if [[ -n $hz ]]; then
  # arch/um/Kconfig: `config HZ` / `int` / `default 100`, no prompt, so a
  # value in .config is ignored; change the default instead.
  sed -i "/^config HZ\$/,/^\$/ s/^\(\tdefault \)100\$/\1$hz/" arch/um/Kconfig
  grep -A3 '^config HZ$' arch/um/Kconfig | grep -q "default $hz\$" ||
    { echo "build-kernel.sh: could not set HZ=$hz in arch/um/Kconfig" >&2; exit 1; }
fi

make ARCH=um defconfig >&2
args=()
while IFS= read -r line; do
  line=${line%%#*}
  [[ $line =~ ^[[:space:]]*$ ]] && continue
  name=${line%%=*}
  value=${line#*=}
  case $value in
    y) args+=(--enable "$name") ;;
    n) args+=(--disable "$name") ;;
    *) args+=(--set-val "$name" "$value") ;;
  esac
done <"$fragment"
scripts/config "${args[@]}"
make ARCH=um olddefconfig >&2

# olddefconfig silently drops what it cannot satisfy: check every option.
while IFS= read -r line; do
  line=${line%%#*}
  [[ $line =~ ^[[:space:]]*$ ]] && continue
  name=${line%%=*}
  value=${line#*=}
  case $value in
    n) ! grep -q "^CONFIG_$name=" .config ;;
    *) grep -qx "CONFIG_$name=$value" .config ;;
  esac || { echo "build-kernel.sh: CONFIG_$name=$value did not stick in .config" >&2; exit 1; }
done <"$fragment"

make ARCH=um -j"$jobs" linux >&2

mkdir -p "$dest"
cp linux "$dest/linux.tmp"
mv "$dest/linux.tmp" "$dest/linux"
cp .config "$dest/config"
echo "$stamp" >"$dest/stamp"
cd /
rm -rf "$build"
echo "build-kernel.sh: built $dest/linux in $(($(date +%s) - start)) s" >&2
echo "$dest/linux"
