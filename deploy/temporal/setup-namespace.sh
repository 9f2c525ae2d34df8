#!/bin/sh
# One-shot (temporalio/admin-tools): creates the namespace and ServiceMeow's custom search
# attributes if missing. (The worker also registers missing attributes at start-up.)
set -eu
addr="${TEMPORAL_ADDRESS:-temporal:7233}"
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$addr" >/dev/null 2>&1; do
  echo "waiting for Temporal at $addr"; sleep 2
done
temporal operator namespace describe -n "$ns" --address "$addr" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$ns" --retention 30d --address "$addr"
existing=$(temporal operator search-attribute list -n "$ns" --address "$addr" || true)
for pair in TicketNumber:Keyword TicketStatus:Keyword TicketPriority:Keyword AssignedGroup:Keyword AssignedUser:Keyword SlaBreached:Bool; do
  name=${pair%%:*}; type=${pair#*:}
  echo "$existing" | grep -qw "$name" \
    || temporal operator search-attribute create -n "$ns" --name "$name" --type "$type" --address "$addr" --yes
done
echo "Namespace $ns and search attributes ready"
