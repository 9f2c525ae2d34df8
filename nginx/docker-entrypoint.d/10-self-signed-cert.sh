#!/bin/sh
# Generates a self-signed TLS certificate at first start (kept in a volume afterwards).
# Run by the nginx image's entrypoint; the e2e test runs it too, with TLS_CERT_DIR set.
set -eu
dir="${TLS_CERT_DIR:-/etc/nginx/certs}"
name="${TLS_COMMON_NAME:-localhost}"
if [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ]; then
  exit 0
fi
mkdir -p "$dir"
echo "Generating a self-signed TLS certificate for $name in $dir"
openssl req -x509 -nodes -newkey rsa:2048 -sha256 -days 825 \
  -keyout "$dir/server.key" -out "$dir/server.crt" \
  -subj "/O=ServiceMeow/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
chmod 600 "$dir/server.key"
