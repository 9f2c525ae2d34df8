#!/bin/sh
# Derives nginx's request body limit from the API's MAX_UPLOAD_SIZE_MB, so the two cannot drift:
# the file limit plus 1 MB for multipart overhead (a file of exactly the limit passes nginx and is
# accepted by the API; anything larger is refused by one or the other). CLIENT_MAX_BODY_SIZE, if
# set, overrides. Run by the nginx image's entrypoint before the templates are rendered; the e2e
# test runs it too.
set -eu
dir="${NGINX_GENERATED_DIR:-/etc/nginx/generated}"
mb="${MAX_UPLOAD_SIZE_MB:-25}"
case "$mb" in ''|*[!0-9]*) echo "MAX_UPLOAD_SIZE_MB must be a whole number of MB, not '$mb'" >&2; exit 1 ;; esac
limit="${CLIENT_MAX_BODY_SIZE:-$((mb + 1))m}"
mkdir -p "$dir"
printf 'client_max_body_size %s;\n' "$limit" > "$dir/upload-limit.conf"
echo "nginx body limit: $limit (MAX_UPLOAD_SIZE_MB=$mb)"
