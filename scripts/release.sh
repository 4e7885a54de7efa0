#!/usr/bin/env bash
# Release artifacts of kube-doctor, from a fresh Debian machine (installs what it needs):
#   - a static binary per target (x86_64-unknown-linux-musl, plus $RELEASE_EXTRA_TARGETS), checked to be static and
#     to print the version and commit it was built from;
#   - an archive per target: the binary, shell completions, man pages, README;
#   - target/dist/kube-doctor-VERSION-SHA256SUMS over the archives;
#   - target/dist/client-doctor.yaml, the krew manifest rendered from deploy/krew/ for them.
#
#   scripts/release.sh                 everything
#   scripts/release.sh binary          only the static binary (what scripts/build-image.sh uses)
#
# Environment: RELEASE_EXTRA_TARGETS (space-separated Rust targets besides x86_64 musl; only
# aarch64-unknown-linux-musl has a toolchain here),
# RELEASE_BASE_URL (where the archives will be downloadable, for the krew manifest; default
# the GitHub release of this version under $SOURCE_URL), SOURCE_DATE_EPOCH (archive mtimes;
# default the commit's time; passed to cargo only if it was already in the environment). Output goes to target/dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/release.env
. scripts/release.env

mode=${1:-all}
case $mode in all | binary) ;; *) echo "usage: scripts/release.sh [all|binary]" >&2; exit 2 ;; esac
TARGETS="x86_64-unknown-linux-musl ${RELEASE_EXTRA_TARGETS:-}"
DIST=target/dist
VERSION=$(workspace_version)
# Not exported: the cc crate tracks SOURCE_DATE_EPOCH, so a new value (every commit) would
# rebuild every crate with C code, and everything above them.
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
say() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] error: %s\n' "$*" >&2; exit 1; }

apt_install() { # apt_install PKG...: installs the Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

# Per target: the Debian package with a C compiler for it (ring compiles C and assembly), and
# the compiler's name. Targets not listed here cannot be built on this machine (see README).
toolchain_for() {
  case $1 in
    x86_64-unknown-linux-musl) echo "musl-tools musl-gcc" ;;
    aarch64-unknown-linux-musl) echo "gcc-aarch64-linux-gnu aarch64-linux-gnu-gcc" ;;
    *) return 1 ;;
  esac
}

build_target() {
  local target=$1 pkg cc tvar
  read -r pkg cc < <(toolchain_for "$target") || die "no C toolchain for $target on Debian here; known: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl"
  apt_install "$pkg"
  rustup target list --installed | grep -qx "$target" || { say "rustup target add $target"; rustup target add "$target" >/dev/null; }
  tvar=$(echo "$target" | tr 'a-z-' 'A-Z_')
  say "cargo build --release --target $target"
  # Stripped (debug info and symbols): 18 MB instead of 22 MB with symbols.
  # The C compiler is for ring's C and assembly. The linker stays rustc's default (self-contained
  # musl: a static PIE) on x86_64; linking with musl-gcc instead gives a binary that asks for
  # /lib/ld-musl-x86_64.so.1 and crashes. A foreign architecture needs its cross gcc to link.
  local linker=()
  [ "${target%%-*}" = "$(uname -m)" ] || linker=("CARGO_TARGET_${tvar}_LINKER=$cc")
  env "CC_${target//-/_}=$cc" "${linker[@]}" \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked -p kube-doctor --target "$target" >&2
  local bin=target/$target/release/kube-doctor
  # Static: no program interpreter and no shared libraries needed.
  if readelf -lW "$bin" | grep -q 'Requesting program interpreter'; then die "$bin is dynamically linked (it has an ELF interpreter)"; fi
  if readelf -dW "$bin" 2>/dev/null | grep -q '(NEEDED)'; then die "$bin needs shared libraries: $(readelf -dW "$bin" | grep NEEDED)"; fi
  say "$bin: static, $(stat -c %s "$bin") bytes"
}

check_version() { # the host can run this target's binary: check what it says about itself
  local bin=$1 out
  out=$("$bin" --version)
  [[ $out == "kube-doctor $VERSION (commit "* ]] || die "$bin --version says '$out', not 'kube-doctor $VERSION (commit ...)'"
  say "$bin --version: $out"
}

tar_det() { # tar_det OUT.tar.gz DIR: an archive that is the same bytes for the same inputs
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" \
    --format=gnu -C "$2" -cf - . | gzip -9n >"$1"
}

archive_target() {
  local target=$1 bin host_bin name stage
  bin=target/$target/release/kube-doctor
  # Completions and man pages come from the binary itself; the host's build of the same
  # sources writes them when the target's binary cannot run here.
  if "$bin" --version >/dev/null 2>&1; then host_bin=$bin; else host_bin=target/x86_64-unknown-linux-musl/release/kube-doctor; fi
  name=kube-doctor-$VERSION-$target
  stage=$(mktemp -d)
  install -m 0755 "$bin" "$stage/kube-doctor"
  mkdir -p "$stage/completions" "$stage/man"
  "$host_bin" completions bash >"$stage/completions/kube-doctor.bash"
  "$host_bin" completions zsh >"$stage/completions/_kube-doctor"
  "$host_bin" completions fish >"$stage/completions/kube-doctor.fish"
  "$host_bin" man --out-dir "$stage/man"
  cp README.md "$stage/"
  for f in LICENSE*; do [ -f "$f" ] && cp "$f" "$stage/"; done
  chmod -R u=rwX,go=rX "$stage"
  chmod 0755 "$stage/kube-doctor"
  tar_det "$DIST/$name.tar.gz" "$stage"
  rm -rf "$stage"
  say "$DIST/$name.tar.gz ($(stat -c %s "$DIST/$name.tar.gz") bytes)"
}

krew_manifest() {
  local base=${RELEASE_BASE_URL:-$SOURCE_URL/releases/download/v$VERSION}
  local sum_amd64 sum_arm64
  sum_amd64=$(sha256sum "$DIST/kube-doctor-$VERSION-x86_64-unknown-linux-musl.tar.gz" | cut -d' ' -f1)
  sed -e "s|@VERSION@|$VERSION|g" -e "s|@BASE_URL@|$base|g" -e "s|@SOURCE_URL@|$SOURCE_URL|g" \
    -e "s|@SHA256_LINUX_AMD64@|$sum_amd64|g" -e '1,/^apiVersion:/{/^#/d}' \
    deploy/krew/client-doctor.yaml >"$DIST/client-doctor.yaml"
  if [ -f "$DIST/kube-doctor-$VERSION-aarch64-unknown-linux-musl.tar.gz" ]; then
    sum_arm64=$(sha256sum "$DIST/kube-doctor-$VERSION-aarch64-unknown-linux-musl.tar.gz" | cut -d' ' -f1)
    sed -i -e "s|@SHA256_LINUX_ARM64@|$sum_arm64|g" "$DIST/client-doctor.yaml"
  else
    # No arm64 archive in this release: drop that platform's entry (between its markers).
    sed -i '/# platform linux\/arm64 begin/,/# platform linux\/arm64 end/d' "$DIST/client-doctor.yaml"
  fi
  sed -i '/# platform linux\/.* \(begin\|end\)/d' "$DIST/client-doctor.yaml"
  say "$DIST/client-doctor.yaml (krew manifest, archives under $base)"
}

mkdir -p "$DIST"
apt_install binutils
for t in $TARGETS; do build_target "$t"; done
check_version target/x86_64-unknown-linux-musl/release/kube-doctor
[ "$mode" = binary ] && exit 0

rm -f "$DIST"/kube-doctor-"$VERSION"-*.tar.gz
for t in $TARGETS; do archive_target "$t"; done
(cd "$DIST" && sha256sum kube-doctor-"$VERSION"-*.tar.gz >"kube-doctor-$VERSION-SHA256SUMS")
say "$DIST/kube-doctor-$VERSION-SHA256SUMS"
krew_manifest
