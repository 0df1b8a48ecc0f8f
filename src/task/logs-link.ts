/**
 * Where a run's logs are: a CloudWatch console link to the invocation's log stream, built from the
 * variables the Lambda runtime sets. Absent elsewhere (the local runtime names its own endpoint).
 */

/** The CloudWatch console's own encoding of a path segment in its `#logsV2:` fragment. */
function consoleEncode(text: string): string {
  return encodeURIComponent(encodeURIComponent(text)).replace(/%/g, '$');
}

/** A CloudWatch console URL of this invocation's log stream, or undefined outside Lambda. */
export function cloudWatchLogsUrl(env: {
  AWS_REGION?: string | undefined;
  AWS_LAMBDA_LOG_GROUP_NAME?: string | undefined;
  AWS_LAMBDA_LOG_STREAM_NAME?: string | undefined;
}): string | undefined {
  const region = env.AWS_REGION;
  const group = env.AWS_LAMBDA_LOG_GROUP_NAME;
  const stream = env.AWS_LAMBDA_LOG_STREAM_NAME;
  if (!region || !group || !stream) return undefined;
  return (
    `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${encodeURIComponent(region)}` +
    `#logsV2:log-groups/log-group/${consoleEncode(group)}/log-events/${consoleEncode(stream)}`
  );
}
