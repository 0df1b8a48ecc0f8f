#!/bin/bash
# LocalStack init hook (runs inside the container once LocalStack is ready).
# Tickwork's resources come from the CDK stack (localstack/deploy.sh); this only checks that the
# services the stack needs answer, so a broken container fails here rather than mid-deploy.
set -euo pipefail
for check in \
  "awslocal dynamodb list-tables" \
  "awslocal lambda list-functions" \
  "awslocal scheduler list-schedules" \
  "awslocal cloudformation list-stacks"; do
  if ! $check >/dev/null 2>&1; then
    echo "tickwork init: '$check' failed" >&2
    exit 1
  fi
done
echo "tickwork init: LocalStack ready for the Tickwork stack"
