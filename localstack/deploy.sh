#!/usr/bin/env bash
# Deploys the Tickwork CDK app (infra/app.ts) to LocalStack with cdklocal (aws-cdk-local), and
# writes the stack outputs to localstack/.outputs.json for the end-to-end suite.
#
#   docker compose -f localstack/docker-compose.yml up -d --wait
#   localstack/deploy.sh
#   LOCALSTACK_ENDPOINT=http://localhost:4566 npx vitest run test/e2e
set -euo pipefail
cd "$(dirname "$0")/.."

export LOCALSTACK_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
export AWS_ENDPOINT_URL="$LOCALSTACK_ENDPOINT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export CDK_DEFAULT_ACCOUNT=000000000000 CDK_DEFAULT_REGION="$AWS_REGION"
STACK="${TICKWORK_STACK:-Tickwork}"

until curl -sf "$LOCALSTACK_ENDPOINT/_localstack/health" >/dev/null; do
  echo "waiting for LocalStack at $LOCALSTACK_ENDPOINT ..."
  sleep 2
done

npx cdklocal bootstrap "aws://$CDK_DEFAULT_ACCOUNT/$AWS_REGION"
npx cdklocal deploy "$STACK" \
  --app "npx tsx infra/app.ts" \
  -c stackName="$STACK" \
  --require-approval never \
  --outputs-file localstack/.outputs.json
echo "deployed $STACK; outputs in localstack/.outputs.json"
