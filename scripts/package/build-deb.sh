#!/usr/bin/env bash
# `npm run package`: builds the project, packs the npm tarball, and lays the Debian package out from that tarball and
# the production dependencies of package-lock.json, so the .deb holds exactly what `npm pack` ships. Needs dpkg-deb.
# The last line printed is the path of the .deb; everything else goes to stderr.
#   --no-build   use dist/ as it is (the caller has just built it, e.g. the system tests under `npm test`)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
NAME=libvirt-guests-ts
DEB_SRC=$ROOT/packaging/debian
[ "${1:-}" = --no-build ] || npm run build >&2
VERSION=$(node -p 'require("./package.json").version')
OUT=$ROOT/dist/deb
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/root
APP=$STAGE/usr/lib/$NAME

echo "package: npm pack" >&2
tarball=$(npm pack --silent --pack-destination "$WORK" | tail -1)
mkdir -p "$APP"
tar -xzf "$WORK/$tarball" -C "$APP" --strip-components=1 --no-same-owner
cp package-lock.json "$APP/"
echo "package: production dependencies (npm ci --omit=dev)" >&2
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2)
rm -f "$APP/package-lock.json"
find "$APP/node_modules" -name '*.node' | grep -q . && { echo "package: native modules found: Architecture: all is wrong" >&2; exit 1; }

# commands on PATH (node follows the link to the real file, so oclif finds the package root)
mkdir -p "$STAGE/usr/bin"
for pair in libvirt-guests:run.js guestd:guestd.js guestctl:guestctl.js; do
  chmod 0755 "$APP/bin/${pair#*:}"
  ln -s "../lib/$NAME/bin/${pair#*:}" "$STAGE/usr/bin/${pair%%:*}"
done
install -D -m 0644 -t "$STAGE/lib/systemd/system" systemd/*
install -D -m 0644 sysconfig/guestd.conf "$STAGE/etc/guestd/guestd.conf"
install -D -m 0644 "$DEB_SRC/guestd.default" "$STAGE/etc/default/guestd"
for page in dist/man/*; do
  section=${page##*.}
  install -d "$STAGE/usr/share/man/man$section"
  gzip -9n < "$page" > "$STAGE/usr/share/man/man$section/$(basename "$page").gz"
done
install -D -m 0644 -t "$STAGE/usr/share/bash-completion/completions" dist/completion/*
DOC=$STAGE/usr/share/doc/$NAME
install -D -m 0644 "$DEB_SRC/copyright" "$DOC/copyright"
install -D -m 0644 README.md "$DOC/README.md"
# the commented libvirt-guests configuration: /etc/default/libvirt-guests belongs to libvirt-daemon-system (see README)
install -D -m 0644 sysconfig/libvirt-guests "$DOC/examples/libvirt-guests"

mkdir -p "$STAGE/DEBIAN"
install -m 0755 "$DEB_SRC"/{preinst,postinst,prerm,postrm} "$STAGE/DEBIAN/"
install -m 0644 "$DEB_SRC/conffiles" "$STAGE/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$size/" "$DEB_SRC/control" > "$STAGE/DEBIAN/control"
chmod -R u=rwX,go=rX "$STAGE"
chmod 0755 "$STAGE"/DEBIAN/{preinst,postinst,prerm,postrm} "$APP"/bin/*.js
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$STAGE/DEBIAN/md5sums"

mkdir -p "$OUT"
deb=$OUT/${NAME}_${VERSION}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >&2
echo "$deb"
