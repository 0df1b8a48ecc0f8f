// Imported first by run.ts: the AWS SDK's "node >= 22 soon" warning would interleave with the table.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
