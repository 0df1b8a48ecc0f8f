#!/usr/bin/env node
/** The `tickwork` command. */
const [command] = process.argv.slice(2);
if (command === 'dev') {
  console.log('tickwork dev: the local runtime is not built yet (see the open issue "Local runtime").');
  process.exit(0);
}
console.log('usage: tickwork dev');
process.exit(command === undefined || command === '--help' ? 0 : 2);
