#!/usr/bin/env bash
# Runs every test: gofmt, go vet, the Go suites (race detector on) and the external checks against
# the real server (GraphQL-over-HTTP audit, GraphiQL and /account in headless Chromium, JWKS verified
# by jose, OpenID discovery, nginx in front), the PostgreSQL tests on a throwaway cluster.
# Installs what those need first: Node packages (pinned in e2e/package-lock.json) and, as root,
# Debian's chromium, nginx-light and postgresql.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "test.sh: installing Debian's chromium for the browser test" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	else
		echo "test.sh: /usr/bin/chromium is missing; install it (sudo apt-get install chromium) or set CHROMIUM" >&2
		exit 1
	fi
fi
# nginx: the deploy test runs deploy/nginx.conf in front of the server.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "test.sh: installing Debian's nginx for the reverse-proxy test" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
	else
		echo "test.sh: nginx is missing; install it (sudo apt-get install nginx-light)" >&2
		exit 1
	fi
fi
if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
	npm ci --prefix e2e --no-audit --no-fund --loglevel=error
	touch e2e/node_modules
fi

# PostgreSQL: a throwaway cluster for the PostgreSQL store and the multi-process tests, stopped on exit.
if [ -z "${SHOPAUTH_TEST_POSTGRES:-}" ]; then
	# shellcheck source=scripts/pg-test-cluster.sh
	source scripts/pg-test-cluster.sh
	if ! pg_test_cluster_start; then
		if [ -n "${CI:-}" ]; then
			echo "test.sh: CI needs PostgreSQL for its tests, and no cluster could be started" >&2
			exit 1
		fi
		echo "test.sh: no PostgreSQL; its tests will be skipped (they never skip in CI)" >&2
	fi
fi

gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './e2e/node_modules/*'))
if [ -n "$gofmt_out" ]; then
	echo "test.sh: gofmt would change:" >&2
	echo "$gofmt_out" >&2
	exit 1
fi
go vet ./...

export SHOPAUTH_E2E=1
export SHOPAUTH_ARTIFACTS="${SHOPAUTH_ARTIFACTS:-$PWD/artifacts}"
go test -race -count=1 -timeout 20m ./...
# The cost weighing must read every document graphql-go reads: fuzz that property for a bounded time.
go test -run '^$' -fuzz '^FuzzMeasure$' -fuzztime 20s ./web/cost
# A prepared RefreshTokens document must be answered as graphql-go answers it: the same property.
go test -run '^$' -fuzz '^FuzzPreparedRefresh$' -fuzztime 20s ./web
echo "test.sh: GraphiQL screenshots at $SHOPAUTH_ARTIFACTS/graphiql.png, graphiql-session.png and graphiql-tabs.png"
echo "test.sh: account page screenshot at $SHOPAUTH_ARTIFACTS/account.png"
echo "test.sh: account page social login screenshot at $SHOPAUTH_ARTIFACTS/account-social.png"
echo "test.sh: admin console customer page screenshot at $SHOPAUTH_ARTIFACTS/admin-customer.png"
