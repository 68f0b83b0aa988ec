#!/usr/bin/env bash
# Vendor the GraphiQL browser bundle and React UMD builds into web/graphiql/.
#
# The files are committed, so building shopauth needs no Node and no network;
# this script is only run again to change the pinned versions. After running
# it, update the pinned sha256 values in web/graphiql_test.go if they moved.
#
# Usage: scripts/vendor-graphiql.sh
set -euo pipefail

GRAPHIQL_VERSION=4.1.2
REACT_VERSION=18.3.1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/web/graphiql"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent \
	"graphiql@$GRAPHIQL_VERSION" \
	"react@$REACT_VERSION" \
	"react-dom@$REACT_VERSION" >/dev/null

for pkg in graphiql react react-dom; do
	mkdir -p "$pkg"
	tar -xzf "$pkg"-[0-9]*.tgz -C "$pkg" --strip-components=1
done

mkdir -p "$dest"
install -m 0644 graphiql/dist/index.umd.js "$dest/graphiql.min.js"
install -m 0644 graphiql/dist/style.css "$dest/graphiql.min.css"
install -m 0644 react/umd/react.production.min.js "$dest/react.production.min.js"
install -m 0644 react-dom/umd/react-dom.production.min.js "$dest/react-dom.production.min.js"
install -m 0644 graphiql/LICENSE "$dest/LICENSE.graphiql"
install -m 0644 react/LICENSE "$dest/LICENSE.react"
install -m 0644 react-dom/LICENSE "$dest/LICENSE.react-dom"

echo "vendored graphiql@$GRAPHIQL_VERSION react@$REACT_VERSION react-dom@$REACT_VERSION into ${dest#"$root"/}:"
cd "$dest"
for f in graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js; do
	printf '  %-30s %8d bytes  sha256-%s\n' "$f" "$(wc -c <"$f")" \
		"$(openssl dgst -sha256 -binary "$f" | openssl base64 -A)"
done
