/**
 * The shell the backups run, one text for both stacks: compose's ovu-backup and ovu-backup-upload
 * (inline `sh -c`, `$` doubled for Compose) and the Kubernetes CronJobs (files of a ConfigMap).
 * POSIX sh only: the postgres image's is busybox ash, the aws-cli image's bash.
 *
 * Uploads use the AWS CLI (`aws s3 cp/ls/rm`): it is the image amazon/aws-cli in both stacks and
 * the PyPI package awscli in the tests, one command line for all three, and it speaks to any
 * S3-compatible endpoint (--endpoint-url). Credentials come only from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never a command line.
 *
 * The last successful dump of each database is recorded on the database itself, as its comment
 * (`create-ovu-app backup <unix time>`): the database's owner may set it (so the app's own login
 * can, on Kubernetes), it needs no table in the app's schema, a dump without --create does not
 * carry it, and the exporter reads it into ovu_backup_last_success_timestamp_seconds.
 */

/** What a dump's file is called: `<db>-<UTC time>.dump` (create-ovu-app backup may add `-N`). */
export const DUMP_PATTERN = (db: string): string => `^${db}-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\\.dump$`;
export const BACKUP_MARK_PREFIX = 'create-ovu-app backup ';

/** Remote dumps kept per app unless OVU_BACKUP_S3_KEEP says otherwise (local ones: OVU_BACKUP_KEEP). */
export const S3_KEEP = 30;

/** sh functions: ovu_s3 (aws s3 with the endpoint when set), ovu_upload FILE APP DB, ovu_latest APP DB. */
export const S3_LIB = [
  'ovu_s3() { if [ -n "${OVU_BACKUP_S3_ENDPOINT:-}" ]; then aws --endpoint-url "$OVU_BACKUP_S3_ENDPOINT" s3 "$@"; else aws s3 "$@"; fi; };',
  'ovu_names() { ovu_s3 ls "s3://$OVU_BACKUP_S3_BUCKET/$1/" | awk \'{print $4}\' | grep -E "^$2-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\\.dump$" | sort; };',
  'ovu_upload() { ovu_s3 cp --only-show-errors "$1" "s3://$OVU_BACKUP_S3_BUCKET/$2/$(basename "$1")" || return 1;',
  'ovu_names "$2" "$3" | sort -r | tail -n +$((${OVU_BACKUP_S3_KEEP:-' + S3_KEEP + '} + 1)) | while read -r old; do ovu_s3 rm --only-show-errors "s3://$OVU_BACKUP_S3_BUCKET/$2/$old"; done; };',
  'ovu_latest() { ovu_names "$1" "$2" | tail -n 1; };',
];

/** Records a successful dump of "$db" (run by psql with the connection in PG* variables). */
export const MARK_COMMAND = `printf '%s\\n' "COMMENT ON DATABASE \\"$db\\" IS '${BACKUP_MARK_PREFIX}$(date -u +%s)';" | psql -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$db"`;

/**
 * compose's ovu-backup-upload: every minute, each dump under /backups/<app>/ not uploaded yet goes
 * to s3://$OVU_BACKUP_S3_BUCKET/<app>/ (a marker under /backups/.uploaded/ remembers it), and the
 * bucket keeps the newest OVU_BACKUP_S3_KEEP per app. Without a bucket it says so and exits 0.
 * OVU_BACKUP_NOW=1 uploads once and exits (its code counts failures).
 */
export const UPLOAD_LOOP = [
  ...S3_LIB,
  'if [ -z "${OVU_BACKUP_S3_BUCKET:-}" ]; then echo "ovu-backup-upload: OVU_BACKUP_S3_BUCKET is not set: nothing is uploaded"; exit 0; fi;',
  'dir=${OVU_BACKUP_DIR:-/backups};',
  'while :; do failed=0;',
  'for f in "$dir"/*/*.dump; do [ -f "$f" ] || continue; app=$(basename "$(dirname "$f")"); name=$(basename "$f");',
  'db=$(printf %s "$name" | sed -E "s/-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\\.dump$//");',
  '[ -e "$dir/.uploaded/$app/$name" ] && continue;',
  'if ovu_upload "$f" "$app" "$db"; then mkdir -p "$dir/.uploaded/$app"; : > "$dir/.uploaded/$app/$name"; echo "ovu-backup-upload: s3://$OVU_BACKUP_S3_BUCKET/$app/$name";',
  'else failed=$((failed + 1)); echo "ovu-backup-upload: upload of $f failed" >&2; fi; done;',
  'for m in "$dir"/.uploaded/*/*; do [ -e "$m" ] || continue; [ -e "$dir/${m#"$dir/.uploaded/"}" ] || rm -f "$m"; done;',
  'if [ -n "${OVU_BACKUP_NOW:-}" ]; then exit "$failed"; fi; sleep 60; done',
].join(' ');

/** A script for Compose's `sh -c`: `$` is `$$` there. */
export const forCompose = (script: string): string => script.replace(/\$/g, '$$$$');

/**
 * The Kubernetes CronJobs' scripts (a ConfigMap's files, run with `sh`). Connection and bucket in
 * the environment; the files pass through the pod's emptyDir /work (OVU_BACKUP_WORK elsewhere).
 */
export const K8S_SCRIPTS: Record<string, string> = {
  // postgres image, as the app's login: the dump into the shared emptyDir.
  'dump.sh': ['set -eu', 'f="${OVU_BACKUP_WORK:-/work}/$PGDATABASE-$(date -u +%Y%m%dT%H%M%SZ).dump"', 'pg_dump -Fc -f "$f.partial"', 'mv "$f.partial" "$f"', 'echo "ovu-backup: dumped $PGDATABASE to $(basename "$f")"', ''].join('\n'),
  // aws-cli image: the dump to the bucket, then the bucket's retention.
  'upload.sh': ['set -eu', ...S3_LIB, 'for f in "${OVU_BACKUP_WORK:-/work}"/*.dump; do ovu_upload "$f" "$OVU_BACKUP_APP" "$PGDATABASE"; echo "ovu-backup: s3://$OVU_BACKUP_S3_BUCKET/$OVU_BACKUP_APP/$(basename "$f")"; done', ''].join('\n'),
  // postgres image, as the app's login, after the upload succeeded.
  'mark.sh': ['set -eu', 'db=$PGDATABASE', MARK_COMMAND, ''].join('\n'),
  // aws-cli image: RESTORE_KEY (<app>/<file>.dump) or the newest dump of the app.
  'fetch.sh': [
    'set -eu',
    ...S3_LIB,
    'key=${RESTORE_KEY:-}',
    'if [ -z "$key" ]; then name=$(ovu_latest "$OVU_BACKUP_APP" "$PGDATABASE"); [ -n "$name" ] || { echo "ovu-restore: no dump of $PGDATABASE in s3://$OVU_BACKUP_S3_BUCKET/$OVU_BACKUP_APP/" >&2; exit 1; }; key="$OVU_BACKUP_APP/$name"; fi',
    'ovu_s3 cp --only-show-errors "s3://$OVU_BACKUP_S3_BUCKET/$key" "${OVU_BACKUP_WORK:-/work}/restore.dump"',
    'echo "ovu-restore: fetched s3://$OVU_BACKUP_S3_BUCKET/$key"',
    '',
  ].join('\n'),
  // postgres image, as the app's own login (as `create-ovu-app restore`): what the dump holds
  // replaces what is there, in one transaction; a lock held for a minute gives up.
  'restore.sh': ['set -eu', 'PGOPTIONS="-c lock_timeout=60000" pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error --dbname="$PGDATABASE" "${OVU_BACKUP_WORK:-/work}/restore.dump"', 'echo "ovu-restore: restored $PGDATABASE"', ''].join('\n'),
};
