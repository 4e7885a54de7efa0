#!/usr/bin/env bash
# The kube-doctor OCI image, built without a daemon, from a fresh Debian machine (installs what
# it needs): the static binary of scripts/release.sh on a distroless-static-like base - no
# shell, no package manager, no libc; user nonroot (65532); Debian's CA certificates.
#
# Tool: umoci (Debian's package). It writes an OCI image layout directly, needs no daemon, no
# storage driver and no user namespaces, and takes a layer as a plain tar, so the layer is
# made here with GNU tar, byte for byte reproducible (fixed owners, modes, mtimes, order).
# skopeo (Debian) reads the result back to check it and is how the image is pushed.
#
# Writes, under target/image/:
#   kube-doctor-VERSION-oci.tar   the OCI archive (an oci-layout tarball; tag VERSION)
#   kube-doctor-VERSION.cdx.json  CycloneDX SBOM: the binary's crates (cargo-cyclonedx) and the
#                                 image's one Debian package, ca-certificates
#   rootfs/                       the image's root file system, unpacked by umoci from the archive
#
# Push: skopeo copy oci-archive:target/image/kube-doctor-VERSION-oci.tar docker://REGISTRY/kube-doctor:VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/release.env
. scripts/release.env
say() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: the layer's files must be owned by root and by 65532"

VERSION=$(workspace_version)
OUT=target/image
BIN=target/x86_64-unknown-linux-musl/release/kube-doctor
CDX_VERSION=0.5.9
TOOLS=${XDG_CACHE_HOME:-$HOME/.cache}/kube-doctor-lab/tools
# Not exported (see release.sh): the image's timestamps only.
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
apt_install umoci skopeo

scripts/release.sh binary
COMMIT=$("$BIN" --version | sed -n 's/.*(commit \([0-9a-f]*\|unknown\).*/\1/p')
FULL_COMMIT=$(git rev-parse --verify -q "$COMMIT^{commit}" 2>/dev/null || echo "$COMMIT")
case $("$BIN" --version) in *dirty*) FULL_COMMIT="$FULL_COMMIT-dirty" ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

# --- Debian's ca-certificates: the package itself, not this machine's /etc/ssl (which may
# carry local additions). The bundle is built as update-ca-certificates builds it.
say "ca-certificates from Debian"
(cd "$work" && apt-get download ca-certificates >/dev/null 2>&1) ||
  { apt-get update -qq && (cd "$work" && apt-get download ca-certificates >/dev/null); }
deb=$(ls "$work"/ca-certificates_*.deb)
CA_VERSION=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" "$work/ca"

# --- The root file system of the one layer.
root=$work/rootfs
mkdir -p "$root"/{etc/ssl/certs,usr/local/bin,usr/share/doc/ca-certificates,var/lib/dpkg/status.d,tmp,home/nonroot,root}
install -m 0755 "$BIN" "$root/usr/local/bin/kube-doctor"
find "$work/ca/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat \
  >"$root/etc/ssl/certs/ca-certificates.crt"
cp "$work/ca/usr/share/doc/ca-certificates/copyright" "$root/usr/share/doc/ca-certificates/"
# As distroless does: the package's control fields, so image scanners see what is installed.
dpkg-deb -f "$deb" Package Version Architecture Maintainer Source Homepage Description \
  >"$root/var/lib/dpkg/status.d/ca-certificates"
cat >"$root/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOT
cat >"$root/etc/group" <<'EOT'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOT
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/local/bin/kube-doctor"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root" "$root/home/nonroot"
chown -R 0:0 "$root"
chown 65532:65532 "$root/home/nonroot"
tar --sort=name --numeric-owner --mtime="@$EPOCH" --format=gnu \
  -C "$root" -cf "$work/layer.tar" .

# --- The image: an empty image, the layer, the configuration.
layout=$work/layout
tag=$VERSION
say "umoci: OCI layout, tag $tag"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci raw add-layer --image "$layout:$tag" \
  --history.created "$CREATED" --history.created_by "scripts/build-image.sh: kube-doctor $VERSION, ca-certificates $CA_VERSION" \
  "$work/layer.tar"
labels=(
  "org.opencontainers.image.title=kube-doctor"
  "org.opencontainers.image.description=Finds out why Kubernetes API clients are failing"
  "org.opencontainers.image.version=$VERSION"
  "org.opencontainers.image.revision=$FULL_COMMIT"
  "org.opencontainers.image.source=$SOURCE_URL"
  "org.opencontainers.image.licenses=Apache-2.0"
  "org.opencontainers.image.created=$CREATED"
)
cfg=(--created "$CREATED" --architecture amd64 --os linux --no-history
  --config.user 65532:65532 --config.workingdir /home/nonroot
  --config.entrypoint /usr/local/bin/kube-doctor
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
  --config.exposedports 8080/tcp)
for l in "${labels[@]}"; do cfg+=(--config.label "$l" --manifest.annotation "$l"); done
umoci config --image "$layout:$tag" "${cfg[@]}"
umoci gc --layout "$layout"

archive=$OUT/kube-doctor-$VERSION-oci.tar
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --format=gnu \
  -C "$layout" -cf "$archive" .
say "$archive: $(stat -c %s "$archive") bytes"

# --- Read it back the way a registry client would, and unpack its root file system.
skopeo inspect --raw "oci-archive:$archive:$tag" >"$work/manifest.json"
skopeo inspect --config "oci-archive:$archive:$tag" >"$work/config.json"
grep -q '"User": "65532:65532"' "$work/config.json" || die "skopeo reads no User 65532:65532 from the archive"
rm -rf "$OUT/rootfs" "$work/bundle"
mkdir -p "$work/unpack"
tar -C "$work/unpack" -xf "$archive"
umoci unpack --image "$work/unpack:$tag" "$work/bundle" >/dev/null
mv "$work/bundle/rootfs" "$OUT/rootfs"
say "$OUT/rootfs: unpacked, $(du -sk "$OUT/rootfs" | cut -f1) KiB"

# --- SBOM: cargo-cyclonedx (CycloneDX's own generator for Rust crates), built once per version.
cdx=$TOOLS/cargo-cyclonedx-$CDX_VERSION/bin/cargo-cyclonedx
if [ ! -x "$cdx" ]; then
  say "building cargo-cyclonedx $CDX_VERSION (cached in $TOOLS)"
  cargo install --locked --quiet "cargo-cyclonedx@$CDX_VERSION" --root "$TOOLS/cargo-cyclonedx-$CDX_VERSION"
fi
say "SBOM (cargo-cyclonedx $CDX_VERSION)"
SOURCE_DATE_EPOCH=$EPOCH "$cdx" cyclonedx --manifest-path crates/kube-doctor/Cargo.toml --format json --spec-version 1.5 \
  --target x86_64-unknown-linux-musl --no-build-deps --override-filename kube-doctor.cdx >/dev/null
sbom=$OUT/kube-doctor-$VERSION.cdx.json
# The image's one Debian package, added as a component of the same document.
python3 - crates/kube-doctor/kube-doctor.cdx.json "$sbom" "$CA_VERSION" <<'EOT'
import json, sys
src, dst, ca_version = sys.argv[1:]
bom = json.load(open(src))
bom.setdefault("components", []).append({
    "type": "data", "bom-ref": f"pkg:deb/debian/ca-certificates@{ca_version}?arch=all",
    "name": "ca-certificates", "version": ca_version,
    "purl": f"pkg:deb/debian/ca-certificates@{ca_version}?arch=all&distro=debian-12",
    "licenses": [{"expression": "MPL-2.0 AND GPL-2.0-or-later"}],
    "description": "Mozilla's CA bundle as Debian ships it: /etc/ssl/certs/ca-certificates.crt in the image",
})
json.dump(bom, open(dst, "w"), indent=2)
EOT
# It writes one file into every workspace member's folder; only the binary's was wanted.
find . -path ./target -prune -o -name kube-doctor.cdx.json -type f -print0 | xargs -0 rm -f
say "$sbom: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$sbom") components"

gz=$(python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/manifest.json")
say "image: $VERSION, revision $FULL_COMMIT; compressed layer $gz bytes, archive $(stat -c %s "$archive") bytes"
