/**
 * Compiles DynamoDB Local's loopback launcher into `dist/java` (what the package ships), so that
 * `tickwork dev` binds its store to 127.0.0.1 on machines with only a Java runtime. Needs a JDK.
 */

import { ensureLauncher, launcherPaths } from '../src/local/dynamodb-launcher.js';
import { engineJar } from '../src/local/dynamodb-local.js';

const result = ensureLauncher(engineJar().dir);
if (!result.classDir) {
  console.error(`build:java: ${result.reason}`);
  process.exit(1);
}
console.log(`build:java: ${launcherPaths().classFile}`);
